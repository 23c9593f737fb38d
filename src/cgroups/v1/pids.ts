// pids.max, the same file on v1 and v2 (v2/pids.ts re-exports this). runc 1.1 semantics: a
// positive limit is written, a negative one means "max", 0 means "leave it" (docker update sends
// 0 for "not given").
import type { Controller } from "../controller.ts";
import { readUint, UINT64_MAX, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { big, FIELD, isSet, type Resources } from "../types.ts";

const F = `${FIELD}.pids.limit`;

function apply(dir: string, r: Resources): void {
  const limit = r.pids?.limit;
  if (!isSet(limit)) return;
  writeControl(dir, "pids.max", big(limit) > 0n ? big(limit) : "max", F);
}

function stats(dir: string, s: Stats): void {
  s.pids.current = readUint(dir, "pids.current");
  const max = readUint(dir, "pids.max");
  s.pids.limit = max === UINT64_MAX ? 0n : max;
}

export const pids: Controller = { name: "pids", wants: (r) => (isSet(r.pids?.limit) ? F : undefined), apply, stats };
