// v1 cpuset: cpus and mems. A new cpuset starts empty and refuses tasks, so create() copies the
// parent's (recursively) before anything joins; these write the spec's choice on top.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Controller } from "../controller.ts";
import { parseList, readControl, readUint, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { FIELD, type Resources } from "../types.ts";

const F = `${FIELD}.cpu`;

function apply(dir: string, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  // mems first: cpus alone is always valid, but mems may be needed for the new cpus' nodes.
  if (c.mems) writeControl(dir, "cpuset.mems", c.mems, `${F}.mems`);
  if (c.cpus) writeControl(dir, "cpuset.cpus", c.cpus, `${F}.cpus`);
}

/** Copies cpus/mems from the nearest ancestor down to `dir` where they are empty. */
export function inheritCpuset(dir: string, stopAt: string): void {
  for (const file of ["cpuset.cpus", "cpuset.mems"]) fill(dir, file, stopAt);
}

function fill(dir: string, file: string, stopAt: string): void {
  if (readFileSync(join(dir, file), "utf8").trim() !== "" || dir === stopAt) return;
  const parent = join(dir, "..");
  fill(parent, file, stopAt);
  writeFileSync(join(dir, file), readFileSync(join(parent, file), "utf8").trim());
}

function stats(dir: string, s: Stats): void {
  const cs = s.cpuset;
  cs.cpus = parseList(readControl(dir, "cpuset.cpus") ?? "");
  cs.mems = parseList(readControl(dir, "cpuset.mems") ?? "");
  cs.cpu_exclusive = readUint(dir, "cpuset.cpu_exclusive");
  cs.mem_hardwall = readUint(dir, "cpuset.mem_hardwall");
  cs.mem_exclusive = readUint(dir, "cpuset.mem_exclusive");
  cs.memory_migrate = readUint(dir, "cpuset.memory_migrate");
  cs.memory_spread_page = readUint(dir, "cpuset.memory_spread_page");
  cs.memory_spread_slab = readUint(dir, "cpuset.memory_spread_slab");
  cs.memory_pressure = readUint(dir, "cpuset.memory_pressure");
  cs.sched_load_balance = readUint(dir, "cpuset.sched_load_balance");
  cs.sched_relax_domain_level = BigInt(readControl(dir, "cpuset.sched_relax_domain_level")?.trim() || "0");
}

export const cpuset: Controller = {
  name: "cpuset",
  wants: (r) => (r.cpu?.cpus ? `${F}.cpus` : r.cpu?.mems ? `${F}.mems` : undefined),
  apply,
  stats,
};
