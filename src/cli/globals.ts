// Global flags the lifecycle does not act on yet are accepted (clients pass them) and named in
// the log, so nobody mistakes them for applied.
import type { GlobalOptions } from "./parse.ts";

export function warnUnsupportedGlobals(_global: GlobalOptions): void {
  // --systemd-cgroup reaches create (src/cgroups/paths.ts): an error where systemd is not running.
}
