// v1 net_cls: the class id tagged on the container's packets (tc, iptables).
import type { Controller } from "../controller.ts";
import { writeControl } from "../files.ts";
import { big, FIELD, isSet, type Resources } from "../types.ts";

const F = `${FIELD}.network.classID`;

export const net_cls: Controller = {
  name: "net_cls",
  wants: (r) => (isSet(r.network?.classID) ? F : undefined),
  apply: (dir: string, r: Resources) => {
    if (isSet(r.network?.classID)) writeControl(dir, "net_cls.classid", big(r.network.classID), F);
  },
};
