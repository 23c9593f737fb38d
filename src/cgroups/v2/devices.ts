// v2 devices: no control files; an eBPF BPF_CGROUP_DEVICE program built and attached by the Zig
// library (zig/cgroups/devices.zig), replacing the one before. `update` leaves it alone (runc too).
import { cgroupDevicesAttach } from "../../ffi-devices.ts";
import type { Controller } from "../controller.ts";
import { bpfRules, containerDevices } from "../devices.ts";
import { CgroupError, FIELD, type ApplyContext, type Resources } from "../types.ts";

const F = `${FIELD}.devices`;

function apply(dir: string, r: Resources, ctx: ApplyContext): void {
  if (ctx.update) return;
  const set = containerDevices(r.devices);
  try {
    cgroupDevicesAttach(dir, bpfRules(set), set.defaultAllow);
  } catch (e) {
    throw new CgroupError(F, (e as Error).message);
  }
}

export const devices: Controller = { name: "", wants: () => undefined, apply };
