// rdma.max, the same on v1 and v2: "mlx4_0 hca_handle=2 hca_object=2000" per device.
import type { Controller } from "../controller.ts";
import { writeControl } from "../files.ts";
import { FIELD, type Resources } from "../types.ts";

const F = `${FIELD}.rdma`;

function apply(dir: string, r: Resources): void {
  for (const [device, lim] of Object.entries(r.rdma ?? {})) {
    const parts = [device];
    if (lim.hcaHandles !== undefined && lim.hcaHandles !== null) parts.push(`hca_handle=${lim.hcaHandles}`);
    if (lim.hcaObjects !== undefined && lim.hcaObjects !== null) parts.push(`hca_object=${lim.hcaObjects}`);
    if (parts.length > 1) writeControl(dir, "rdma.max", parts.join(" "), `${F}.${device}`);
  }
}

export const rdma: Controller = { name: "rdma", wants: (r) => (Object.keys(r.rdma ?? {}).length ? F : undefined), apply };
