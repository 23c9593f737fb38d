// v2 memory: memory.max, memory.swap.max (the spec's swap is memory+swap: converted), memory.low.
// v1-only knobs (swappiness, disableOOMKiller) have no v2 file: an error. Kernel memory limits
// are ignored on both versions (types.ts kernelMemoryWarning).
import type { Controller } from "../controller.ts";
import { hasFile, readKeyValues, readUint, UINT64_MAX, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { big, CgroupError, FIELD, isSet, type ApplyContext, type MemoryResources, type Resources } from "../types.ts";

const F = `${FIELD}.memory`;

const maxOr = (v: bigint) => (v === -1n ? "max" : v);

/** The current memory.max as the spec would say it (-1 for unlimited). */
function currentLimit(dir: string): bigint {
  const v = readUint(dir, "memory.max");
  return v === UINT64_MAX ? -1n : v;
}

/** spec swap (memory+swap) -> memory.swap.max; null: leave it. */
function swapValue(dir: string, m: MemoryResources): bigint | null {
  const limit = isSet(m.limit) ? big(m.limit) : null;
  if (!isSet(m.swap)) return limit === -1n ? -1n : null;
  const swap = big(m.swap);
  if (swap === -1n) return -1n;
  const mem = limit ?? currentLimit(dir);
  if (mem === -1n) return swap;
  if (mem <= 0n) throw new CgroupError(`${F}.swap`, "cannot set a swap limit without a memory limit");
  if (swap < mem) throw new CgroupError(`${F}.swap`, `memory+swap (${swap}) must be at least the memory limit (${mem})`);
  return swap - mem;
}

function refuseV1Only(m: MemoryResources): void {
  if (m.swappiness !== undefined && m.swappiness !== null && big(m.swappiness) !== -1n) throw new CgroupError(`${F}.swappiness`, "cgroup v2 has no per-cgroup swappiness");
  if (m.disableOOMKiller) throw new CgroupError(`${F}.disableOOMKiller`, "cgroup v2 cannot disable the OOM killer");
  if (m.useHierarchy === false) throw new CgroupError(`${F}.useHierarchy`, "cgroup v2 is always hierarchical");
}

function apply(dir: string, r: Resources, ctx: ApplyContext): void {
  const m = r.memory;
  if (!m) return;
  refuseV1Only(m);
  if (ctx.update && m.checkBeforeUpdate && isSet(m.limit) && big(m.limit) > 0n) {
    const usage = readUint(dir, "memory.current");
    if (usage > big(m.limit)) throw new CgroupError(`${F}.limit`, `checkBeforeUpdate: current usage ${usage} is above the new limit ${m.limit}`);
  }
  const swap = swapValue(dir, m);
  if (swap !== null) {
    if (!hasFile(dir, "memory.swap.max")) {
      if (swap !== -1n && swap !== 0n) throw new CgroupError(`${F}.swap`, "swap accounting is not enabled on this host (no memory.swap.max)");
    } else writeControl(dir, "memory.swap.max", maxOr(swap), `${F}.swap`);
  }
  if (isSet(m.limit)) writeControl(dir, "memory.max", maxOr(big(m.limit)), `${F}.limit`);
  if (isSet(m.reservation)) writeControl(dir, "memory.low", maxOr(big(m.reservation)), `${F}.reservation`);
}

function stats(dir: string, s: Stats): void {
  const raw = readKeyValues(dir, "memory.stat");
  s.memory.raw = Object.fromEntries(raw);
  s.memory.cache = raw.get("file") ?? 0n;
  const limit = readUint(dir, "memory.max");
  s.memory.usage = { usage: readUint(dir, "memory.current"), limit, max: readUint(dir, "memory.peak"), failcnt: readKeyValues(dir, "memory.events").get("max") ?? 0n };
  if (hasFile(dir, "memory.swap.current")) {
    const swapLimit = readUint(dir, "memory.swap.max");
    // runc reports v2 swap as memory+swap, like v1's memsw.
    s.memory.swap = {
      usage: readUint(dir, "memory.swap.current") + s.memory.usage.usage,
      limit: swapLimit === UINT64_MAX || limit === UINT64_MAX ? UINT64_MAX : swapLimit + limit,
      max: 0n,
      failcnt: readKeyValues(dir, "memory.swap.events").get("max") ?? 0n,
    };
  }
}

export const memory: Controller = {
  name: "memory",
  wants: (r) => {
    const m = r.memory;
    if (!m) return undefined;
    for (const k of ["limit", "reservation", "swap"] as const) if (isSet(m[k])) return `${F}.${k}`;
    return undefined;
  },
  apply,
  stats,
};
