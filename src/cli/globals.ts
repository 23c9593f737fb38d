// Global flags the lifecycle does not act on yet are accepted (clients pass them) and named in
// the log, so nobody mistakes them for applied.
import { log } from "../log.ts";
import type { GlobalOptions } from "./parse.ts";

export function warnUnsupportedGlobals(global: GlobalOptions): void {
  if (global.systemdCgroup) log.warn("--systemd-cgroup: the systemd cgroup driver is not supported; cgroupfs is used");
}
