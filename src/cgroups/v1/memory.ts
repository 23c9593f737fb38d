// v1 memory: limit and memsw (written in the order the kernel accepts), soft limit, swappiness,
// OOM killer, hierarchy; stats from memory.stat and the usage files (kmem included). Kernel
// memory limits are ignored (types.ts kernelMemoryWarning).
import type { Controller } from "../controller.ts";
import { EBUSY, hasFile, readKeyValues, readUint, tryWrite, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { big, CgroupError, FIELD, isSet, type ApplyContext, type MemoryResources, type Resources } from "../types.ts";

const F = `${FIELD}.memory`;
const LIMIT = "memory.limit_in_bytes";
const MEMSW = "memory.memsw.limit_in_bytes";

function writeLimit(dir: string, limit: bigint): void {
  const errno = tryWrite(dir, LIMIT, limit);
  if (errno === 0) return;
  if (errno === EBUSY) {
    throw new CgroupError(`${F}.limit`, `cannot set the memory limit to ${limit}: current usage ${readUint(dir, "memory.usage_in_bytes")} (peak ${readUint(dir, "memory.max_usage_in_bytes")}) is above it`);
  }
  writeControl(dir, LIMIT, limit, `${F}.limit`);
}

function setLimitAndSwap(dir: string, m: MemoryResources): void {
  const limit = isSet(m.limit) ? big(m.limit) : 0n;
  let swap = isSet(m.swap) ? big(m.swap) : 0n;
  // Unlimited memory with swap left out means unlimited swap too (runc does the same).
  if (limit === -1n && swap === 0n && hasFile(dir, MEMSW)) swap = -1n;
  if (swap !== 0n && !hasFile(dir, MEMSW)) throw new CgroupError(`${F}.swap`, "swap accounting is not enabled on this host (no memory.memsw.limit_in_bytes)");
  // memsw must stay >= the limit at every step: raise memsw first when it grows past the current limit.
  const swapFirst = limit !== 0n && swap !== 0n && (swap === -1n || readUint(dir, LIMIT) < swap);
  if (swapFirst) writeControl(dir, MEMSW, swap, `${F}.swap`);
  if (limit !== 0n) writeLimit(dir, limit);
  if (!swapFirst && swap !== 0n) writeControl(dir, MEMSW, swap, `${F}.swap`);
}

function apply(dir: string, r: Resources, ctx: ApplyContext): void {
  const m = r.memory;
  if (!m) return;
  if (ctx.update && m.checkBeforeUpdate && isSet(m.limit) && big(m.limit) > 0n) {
    const usage = readUint(dir, "memory.usage_in_bytes");
    if (usage > big(m.limit)) throw new CgroupError(`${F}.limit`, `checkBeforeUpdate: current usage ${usage} is above the new limit ${m.limit}`);
  }
  setLimitAndSwap(dir, m);
  if (isSet(m.reservation)) writeControl(dir, "memory.soft_limit_in_bytes", big(m.reservation), `${F}.reservation`);
  if (m.swappiness !== undefined && m.swappiness !== null && big(m.swappiness) !== -1n) {
    const v = big(m.swappiness);
    if (v < 0n || v > 100n) throw new CgroupError(`${F}.swappiness`, `${v} is out of range (0-100)`);
    writeControl(dir, "memory.swappiness", v, `${F}.swappiness`);
  }
  if (m.disableOOMKiller !== undefined) writeControl(dir, "memory.oom_control", m.disableOOMKiller ? 1 : 0, `${F}.disableOOMKiller`);
  if (m.useHierarchy !== undefined) writeControl(dir, "memory.use_hierarchy", m.useHierarchy ? 1 : 0, `${F}.useHierarchy`);
}

function entry(dir: string, prefix: string) {
  return {
    usage: readUint(dir, `${prefix}.usage_in_bytes`),
    max: readUint(dir, `${prefix}.max_usage_in_bytes`),
    failcnt: readUint(dir, `${prefix}.failcnt`),
    limit: readUint(dir, `${prefix}.limit_in_bytes`),
  };
}

function stats(dir: string, s: Stats): void {
  const raw = readKeyValues(dir, "memory.stat");
  s.memory.raw = Object.fromEntries(raw);
  s.memory.cache = raw.get("cache") ?? 0n;
  s.memory.usage = entry(dir, "memory");
  if (hasFile(dir, "memory.memsw.usage_in_bytes")) s.memory.swap = entry(dir, "memory.memsw");
  if (hasFile(dir, "memory.kmem.usage_in_bytes")) s.memory.kernel = entry(dir, "memory.kmem");
  if (hasFile(dir, "memory.kmem.tcp.usage_in_bytes")) s.memory.kernelTCP = entry(dir, "memory.kmem.tcp");
}

export const memory: Controller = {
  name: "memory",
  wants: (r) => {
    const m = r.memory;
    if (!m) return undefined;
    for (const k of ["limit", "reservation", "swap"] as const) if (isSet(m[k])) return `${F}.${k}`;
    if (m.swappiness !== undefined && m.swappiness !== null && big(m.swappiness) !== -1n) return `${F}.swappiness`;
    if (m.disableOOMKiller) return `${F}.disableOOMKiller`;
    return undefined;
  },
  apply,
  stats,
};
