// Container statistics in runc's `events` shape (runc's types.Stats): what the controllers fill
// in, and its JSON encoding with Go's omitempty/omitzero rules and uint64 values kept exact.

export interface MemoryEntry {
  limit: bigint;
  usage: bigint;
  max: bigint;
  failcnt: bigint;
}

export interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

export interface Stats {
  cpu: {
    usage: { total: bigint; percpu: bigint[]; percpu_kernel: bigint[]; percpu_user: bigint[]; kernel: bigint; user: bigint };
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint };
  };
  cpuset: {
    cpus: number[];
    cpu_exclusive: bigint;
    mems: number[];
    mem_hardwall: bigint;
    mem_exclusive: bigint;
    memory_migrate: bigint;
    memory_spread_page: bigint;
    memory_spread_slab: bigint;
    memory_pressure: bigint;
    sched_load_balance: bigint;
    sched_relax_domain_level: bigint;
  };
  memory: { cache: bigint; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw: Record<string, bigint> };
  pids: { current: bigint; limit: bigint };
  blkio: Record<BlkioKey, BlkioEntry[]>;
  hugetlb: Record<string, { usage: bigint; max: bigint; failcnt: bigint }>;
}

export const BLKIO_KEYS = [
  "ioServiceBytesRecursive",
  "ioServicedRecursive",
  "ioQueueRecursive",
  "ioServiceTimeRecursive",
  "ioWaitTimeRecursive",
  "ioMergedRecursive",
  "ioTimeRecursive",
  "sectorsRecursive",
] as const;
export type BlkioKey = (typeof BLKIO_KEYS)[number];

const memoryEntry = (): MemoryEntry => ({ limit: 0n, usage: 0n, max: 0n, failcnt: 0n });

export function emptyStats(): Stats {
  return {
    cpu: {
      usage: { total: 0n, percpu: [], percpu_kernel: [], percpu_user: [], kernel: 0n, user: 0n },
      throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
    },
    cpuset: {
      cpus: [],
      cpu_exclusive: 0n,
      mems: [],
      mem_hardwall: 0n,
      mem_exclusive: 0n,
      memory_migrate: 0n,
      memory_spread_page: 0n,
      memory_spread_slab: 0n,
      memory_pressure: 0n,
      sched_load_balance: 0n,
      sched_relax_domain_level: 0n,
    },
    memory: { cache: 0n, usage: memoryEntry(), swap: memoryEntry(), kernel: memoryEntry(), kernelTCP: memoryEntry(), raw: {} },
    pids: { current: 0n, limit: 0n },
    blkio: Object.fromEntries(BLKIO_KEYS.map((k) => [k, []])) as unknown as Record<BlkioKey, BlkioEntry[]>,
    hugetlb: {},
  };
}

type Json = null | boolean | number | string | bigint | Json[] | { [k: string]: Json };

/** Go's omitempty for scalars and slices: drop zero numbers, empty strings and empty arrays. */
function omitEmpty(obj: Record<string, Json>, keys: string[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(obj)) {
    const empty = v === 0n || v === 0 || v === "" || (Array.isArray(v) && v.length === 0);
    if (keys.includes(k) && empty) continue;
    out[k] = v;
  }
  return out;
}

const allZero = (o: Record<string, Json>) => Object.values(o).every((v) => v === 0n || (Array.isArray(v) && v.length === 0));

/** runc's `data` object of a stats event, keys in runc's order, zero fields dropped as Go does. */
export function statsData(s: Stats): Record<string, Json> {
  const usage = omitEmpty(s.cpu.usage, ["total", "percpu", "percpu_kernel", "percpu_user"]);
  const cpu: Record<string, Json> = {};
  if (!allZero(s.cpu.usage)) cpu.usage = usage;
  if (!allZero(s.cpu.throttling)) cpu.throttling = omitEmpty(s.cpu.throttling, ["periods", "throttledPeriods", "throttledTime"]);
  const entry = (e: MemoryEntry) => omitEmpty({ ...e }, ["usage", "max"]);
  const memory: Record<string, Json> = omitEmpty({ cache: s.memory.cache }, ["cache"]);
  for (const k of ["usage", "swap", "kernel", "kernelTCP"] as const) if (!allZero({ ...s.memory[k] })) memory[k] = entry(s.memory[k]);
  if (Object.keys(s.memory.raw).length) memory.raw = s.memory.raw;
  const blkio: Record<string, Json> = {};
  for (const k of BLKIO_KEYS) {
    if (s.blkio[k].length) blkio[k] = s.blkio[k].map((e) => omitEmpty({ ...e }, ["major", "minor", "op", "value"]));
  }
  const hugetlb: Record<string, Json> = {};
  for (const [size, h] of Object.entries(s.hugetlb)) hugetlb[size] = omitEmpty({ ...h }, ["usage", "max"]);
  return {
    cpu,
    cpuset: omitEmpty({ ...s.cpuset }, ["cpus", "mems"]),
    memory,
    pids: omitEmpty({ ...s.pids }, ["current", "limit"]),
    blkio,
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** JSON with bigints written as exact integers (uint64 limits exceed 2^53). */
export function encodeJson(value: unknown): string {
  const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? rawJson(v.toString()) : v));
}
