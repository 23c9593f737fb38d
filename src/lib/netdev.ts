// linux.netDevices (runtime-spec 1.3): named host interfaces moved into the container's network
// namespace at create, renamed when asked, their addresses and up state kept (zig/netdev.zig);
// `delete` moves them back under their host names while the namespace still exists (the kernel
// would return a physical device by itself when it dies, but destroys a virtual one).
import { closeSync, openSync } from "node:fs";
import type { Spec } from "../config/types.ts";
import { quote } from "../base/quote.ts";
import { BunruncError } from "../base/errors.ts";
import * as ffi from "../ffi.ts";

/** One moved interface: its name on the host and in the container. */
export interface MovedNetDevice {
  host: string;
  container: string;
}

function openNetNs(pid: number | "self"): number {
  return openSync(`/proc/${pid}/ns/net`, "r");
}

/** Moves every linux.netDevices interface into the network namespace of `pid` (the init); all or none. */
export function moveNetDevicesIn(spec: Spec, pid: number): MovedNetDevice[] {
  const devices = Object.entries(spec.linux?.netDevices ?? {});
  if (!devices.length) return [];
  const moved: MovedNetDevice[] = [];
  const target = openNetNs(pid);
  try {
    for (const [host, dev] of devices) {
      const container = dev.name || host;
      try {
        ffi.netdevMove(-1, host, target, container);
      } catch (e) {
        moveNetDevicesOut(pid, moved, () => {});
        throw new BunruncError("system", `create: linux.netDevices[${quote(host)}]: ${(e as Error).message}`);
      }
      moved.push({ host, container });
    }
  } finally {
    closeSync(target);
  }
  return moved;
}

/** Moves them back from `pid`'s network namespace into ours, under their host names; a failure is a warning. */
export function moveNetDevicesOut(pid: number, moved: readonly MovedNetDevice[], warn: (m: string) => void): void {
  if (!moved.length) return;
  let from: number;
  try {
    from = openNetNs(pid);
  } catch (e) {
    warn(`linux.netDevices: the container's network namespace is gone; its devices went with it (${(e as Error).message})`);
    return;
  }
  const home = openNetNs("self");
  try {
    for (const d of moved) {
      try {
        ffi.netdevMove(from, d.container, home, d.host);
      } catch (e) {
        warn(`linux.netDevices[${quote(d.host)}]: move ${quote(d.container)} back to the host: ${(e as Error).message}`);
      }
    }
  } finally {
    closeSync(from);
    closeSync(home);
  }
}
