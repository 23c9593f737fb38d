// v1 devices: the reduced rule set written as one "a" (the default) and then the exceptions.
// `update` leaves devices alone (runc does too: engines and plugins may have added rules).
import type { Controller } from "../controller.ts";
import { containerDevices, v1String } from "../devices.ts";
import { writeControl } from "../files.ts";
import { FIELD, type ApplyContext, type Resources } from "../types.ts";

const F = `${FIELD}.devices`;

function apply(dir: string, r: Resources, ctx: ApplyContext): void {
  if (ctx.update) return;
  const set = containerDevices(r.devices);
  writeControl(dir, set.defaultAllow ? "devices.allow" : "devices.deny", "a", F);
  const file = set.defaultAllow ? "devices.deny" : "devices.allow";
  for (const e of set.exceptions) writeControl(dir, file, v1String(e), F);
}

export const devices: Controller = { name: "devices", wants: (r) => ((r.devices ?? []).length ? F : undefined), apply };
