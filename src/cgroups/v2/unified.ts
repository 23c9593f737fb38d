// linux.resources.unified: raw v2 "file": "value" pairs, written last so they win over the
// structured fields. A key must name a file in the cgroup's own directory.
import type { Controller } from "../controller.ts";
import { writeControl } from "../files.ts";
import { CgroupError, FIELD, type Resources } from "../types.ts";

const F = `${FIELD}.unified`;

function apply(dir: string, r: Resources): void {
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    if (key.includes("/") || key.startsWith(".") || key === "") throw new CgroupError(`${F}.${key}`, "not a cgroup file name");
    if (typeof value !== "string") throw new CgroupError(`${F}.${key}`, "the value must be a string");
    writeControl(dir, key, value, `${F}.${key}`);
  }
}

export const unified: Controller = { name: "", wants: (r) => (Object.keys(r.unified ?? {}).length ? F : undefined), apply };
