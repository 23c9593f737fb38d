// cgroup v2's device filter (zig/cgroups/devices.zig) through the one FFI boundary (src/ffi.ts).
import { boundary, FfiError } from "./ffi.ts";

const { lib: load, ok, cstr, ptr } = boundary;

const DEVICE_STAGES = ["", "check the device rules", "open the cgroup", "query its device programs", "load the device program", "attach the device program", "detach the previous device program"];

/**
 * cgroup v2 device filter (zig/cgroups/devices.zig): `rules` is 12 bytes per exception
 * {type u8, access u8, flags u8, 0, major u32, minor u32}; attaches it to the cgroup dir and
 * detaches the programs that were there before.
 */
export function cgroupDevicesAttach(dir: string, rules: Uint8Array, defaultAllow: boolean): void {
  const stage = new Uint32Array(1);
  const count = rules.length / 12;
  const rc = load().bunrunc_cg_devices_attach(ptr(cstr(dir)), ptr(rules.length ? rules : new Uint8Array(12)), count, defaultAllow ? 1 : 0, ptr(stage));
  if (rc < 0) throw new FfiError(-rc, `${DEVICE_STAGES[stage[0]!] ?? "device filter"} (${dir})`);
}

/** How many device programs are attached to the cgroup dir. */
export function cgroupDevicesCount(dir: string): number {
  return ok(load().bunrunc_cg_devices_count(ptr(cstr(dir))), `query device programs of ${dir}`);
}
