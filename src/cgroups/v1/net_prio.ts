// v1 net_prio: per-interface priorities ("eth0 5" lines into net_prio.ifpriomap).
import type { Controller } from "../controller.ts";
import { writeControl } from "../files.ts";
import { FIELD, type Resources } from "../types.ts";

const F = `${FIELD}.network.priorities`;

export const net_prio: Controller = {
  name: "net_prio",
  wants: (r) => ((r.network?.priorities ?? []).length ? F : undefined),
  apply: (dir: string, r: Resources) => {
    (r.network?.priorities ?? []).forEach((p, i) => writeControl(dir, "net_prio.ifpriomap", `${p.name} ${p.priority}`, `${F}[${i}]`));
  },
};
