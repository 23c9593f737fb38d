// v2 cpuset: cpuset.cpus / cpuset.mems (empty means "inherit", unlike v1); stats from the
// effective sets.
import type { Controller } from "../controller.ts";
import { parseList, readControl, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { FIELD, type Resources } from "../types.ts";

const F = `${FIELD}.cpu`;

function apply(dir: string, r: Resources): void {
  if (r.cpu?.mems) writeControl(dir, "cpuset.mems", r.cpu.mems, `${F}.mems`);
  if (r.cpu?.cpus) writeControl(dir, "cpuset.cpus", r.cpu.cpus, `${F}.cpus`);
}

function stats(dir: string, s: Stats): void {
  s.cpuset.cpus = parseList(readControl(dir, "cpuset.cpus.effective") ?? "");
  s.cpuset.mems = parseList(readControl(dir, "cpuset.mems.effective") ?? "");
}

export const cpuset: Controller = {
  name: "cpuset",
  wants: (r) => (r.cpu?.cpus ? `${F}.cpus` : r.cpu?.mems ? `${F}.mems` : undefined),
  apply,
  stats,
};
