// linux.resources as systemd unit properties: what the systemd driver hands to systemd (at
// StartTransientUnit, and through SetUnitProperties on `update`) so that systemd, which owns
// the scope's cgroup, keeps enforcing the same limits whenever it re-applies its own (a
// daemon-reload, a reexec). The cgroupfs write of everything follows in the driver, as runc does.
// cgroup v2 names (MemoryMax, CPUWeight, IOWeight...) or v1 ones (MemoryLimit, CPUShares,
// BlockIOWeight...). Pure: nothing here talks to systemd.
import { readFileSync } from "node:fs";
import { containerDevices, type DeviceSet } from "../devices.ts";
import { blkioToIoWeight } from "../v2/io.ts";
import { sharesToWeight } from "../v2/cpu.ts";
import { big, CgroupError, FIELD, isSet, type Int, type Resources } from "../types.ts";
import type { Value } from "./bus.ts";
import { quote } from "../../base/quote.ts";

export type Property = [name: string, sig: string, value: Value];

/** systemd's "infinity" (USEC_INFINITY, CGROUP_LIMIT_MAX): uint64 max. */
export const INFINITY = 2n ** 64n - 1n;
const DEFAULT_PERIOD_US = 100_000n;
const MAX_CPUS = 8192;

const limit = (v: Int) => (big(v) === -1n ? INFINITY : big(v));

/**
 * "0-3,8" (a cpuset list) -> systemd's CPU/NUMA-node bitmask: byte k holds ids 8k..8k+7, the
 * lowest id in the lowest bit.
 */
export function listToMask(list: string, field: string): Uint8Array {
  const ids: number[] = [];
  for (const part of list.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new CgroupError(field, `invalid CPU or memory node list ${quote(list)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= MAX_CPUS) throw new CgroupError(field, `invalid CPU or memory node list ${quote(list)}`);
    for (let i = a; i <= b; i++) ids.push(i);
  }
  const out = new Uint8Array(Math.floor(Math.max(...ids) / 8) + 1);
  for (const i of ids) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/**
 * CPUQuotaPerSecUSec from a quota per period: microseconds of CPU per second, rounded up to
 * whole percent (systemd keeps the quota as a percentage, so 10 ms steps), so that the
 * cpu.max written afterwards is never above what systemd allows. No quota: infinity.
 */
export function quotaPerSecond(quota: bigint | null, period: bigint | null): bigint {
  if (quota === null || quota < 0n) return INFINITY;
  const perSec = (quota * 1_000_000n) / (period ?? DEFAULT_PERIOD_US);
  return perSec % 10_000n === 0n ? perSec : (perSec / 10_000n + 1n) * 10_000n;
}

/** The spec's swap (memory + swap) as cgroup v2's swap alone; null: not set. */
function swapOnly(memory: Int | undefined, swap: Int | undefined): bigint | null {
  const mem = isSet(memory) ? big(memory) : 0n;
  if (!isSet(swap)) return mem === -1n ? INFINITY : null;
  const s = big(swap);
  if (s === -1n) return INFINITY;
  if (mem === 0n || mem === -1n) throw new CgroupError(`${FIELD}.memory.swap`, "cannot set a swap limit without a memory limit");
  if (s < mem) throw new CgroupError(`${FIELD}.memory.swap`, `memory+swap (${s}) must be at least the memory limit (${mem})`);
  return s - mem;
}

function cpuProperties(version: 1 | 2, r: Resources, out: Property[]): void {
  const c = r.cpu;
  if (!c) return;
  if (isSet(c.shares)) out.push(version === 2 ? ["CPUWeight", "t", sharesToWeight(big(c.shares))] : ["CPUShares", "t", big(c.shares)]);
  const period = isSet(c.period) ? big(c.period) : null;
  const quota = isSet(c.quota) ? big(c.quota) : null;
  if (period !== null) out.push(["CPUQuotaPeriodUSec", "t", period]);
  if (quota !== null || period !== null) out.push(["CPUQuotaPerSecUSec", "t", quotaPerSecond(quota, period)]);
  if (c.cpus) out.push(["AllowedCPUs", "ay", listToMask(c.cpus, `${FIELD}.cpu.cpus`)]);
  if (c.mems) out.push(["AllowedMemoryNodes", "ay", listToMask(c.mems, `${FIELD}.cpu.mems`)]);
}

/** linux.resources.unified keys systemd has a property for (cgroup v2 only). */
function unifiedProperties(unified: Record<string, string>, out: Property[]): void {
  const bytes = (k: string, v: string) => {
    if (v === "max") return INFINITY;
    if (!/^\d+$/.test(v)) throw new CgroupError(`${FIELD}.unified.${k}`, `invalid value ${quote(v)}`);
    return BigInt(v);
  };
  const names: Record<string, string> = { "memory.min": "MemoryMin", "memory.low": "MemoryLow", "memory.high": "MemoryHigh", "memory.max": "MemoryMax", "memory.swap.max": "MemorySwapMax", "pids.max": "TasksMax", "cpu.weight": "CPUWeight" };
  for (const [k, v] of Object.entries(unified)) {
    if (names[k]) out.push([names[k], "t", bytes(k, v.trim())]);
    else if (k === "cpuset.cpus") out.push(["AllowedCPUs", "ay", listToMask(v, `${FIELD}.unified.${k}`)]);
    else if (k === "cpuset.mems") out.push(["AllowedMemoryNodes", "ay", listToMask(v, `${FIELD}.unified.${k}`)]);
    else if (k === "cpu.max") {
      const [q, p] = v.trim().split(/\s+/);
      const period = p ? bytes(k, p) : null;
      if (period !== null) out.push(["CPUQuotaPeriodUSec", "t", period]);
      out.push(["CPUQuotaPerSecUSec", "t", quotaPerSecond(q === "max" ? null : bytes(k, q ?? ""), period)]);
    }
  }
}

/**
 * The resource properties of `r` for a cgroup v1 or v2 host. `devices`: also DevicePolicy and
 * DeviceAllow (at create; `update` leaves devices alone). `warn` hears about device rules
 * systemd cannot express (the cgroupfs rules bunrunc writes afterwards still enforce them).
 */
export function resourceProperties(version: 1 | 2, r: Resources, opts: { devices: boolean; warn?: (m: string) => void }): Property[] {
  const out: Property[] = [];
  if (opts.devices) out.push(...deviceProperties(containerDevices(r.devices), opts.warn));
  const m = r.memory;
  if (isSet(m?.limit)) out.push([version === 2 ? "MemoryMax" : "MemoryLimit", "t", limit(m.limit)]);
  if (version === 2) {
    if (isSet(m?.reservation)) out.push(["MemoryLow", "t", limit(m.reservation)]);
    const swap = swapOnly(m?.limit, m?.swap);
    if (swap !== null) out.push(["MemorySwapMax", "t", swap]);
  }
  cpuProperties(version, r, out);
  const pids = r.pids?.limit;
  if (pids !== undefined && pids !== null && (big(pids) > 0n || big(pids) === -1n)) out.push(["TasksMax", "t", limit(pids)]);
  if (isSet(r.blockIO?.weight)) {
    const w = big(r.blockIO.weight);
    out.push(version === 2 ? ["IOWeight", "t", blkioToIoWeight(w)] : ["BlockIOWeight", "t", w]);
  }
  if (version === 2 && r.unified) unifiedProperties(r.unified, out);
  return out;
}

/**
 * `update`'s properties: those of what the delta sets, with the recorded values a property
 * needs beside it (swap needs the memory limit; a quota its period and the other way round).
 * Devices are not updated.
 */
export function updateProperties(version: 1 | 2, delta: Resources, recorded: Resources): Property[] {
  const r: Resources = { ...delta, devices: undefined };
  if (isSet(delta.memory?.swap) && !isSet(delta.memory?.limit)) r.memory = { ...delta.memory, limit: recorded.memory?.limit };
  const c = delta.cpu;
  if (c && (isSet(c.quota) || isSet(c.period))) r.cpu = { ...c, quota: isSet(c.quota) ? c.quota : recorded.cpu?.quota, period: isSet(c.period) ? c.period : recorded.cpu?.period };
  return resourceProperties(version, r, { devices: false });
}

/** The group name /proc/devices gives a major number ("char-pts"), for a whole-major rule. */
function deviceGroup(type: "c" | "b", major: number, procDevices: string): string | undefined {
  let section = "";
  for (const line of procDevices.split("\n")) {
    if (line.startsWith("Character")) section = "c";
    else if (line.startsWith("Block")) section = "b";
    const f = line.trim().split(/\s+/);
    if (section === type && f.length === 2 && Number(f[0]) === major) return `${type === "c" ? "char" : "block"}-${f[1]}`;
  }
  return undefined;
}

/**
 * DevicePolicy + DeviceAllow from the reduced device rules. systemd only knows allow lists:
 * "allow everything" is policy auto; deny exceptions cannot be said, so systemd gets a strict
 * empty list (bunrunc's own device program, attached afterwards, replaces systemd's).
 * Paths: /dev/char/M:m for one device, the /proc/devices group for a whole major, char-* and
 * block-* for every device of a type; "any major, one minor" has no systemd form (skipped).
 */
export function deviceProperties(set: DeviceSet, warn?: (m: string) => void, procDevices?: string): Property[] {
  if (set.defaultAllow) {
    if (set.exceptions.length) warn?.("linux.resources.devices: systemd cannot express deny rules; its own device list for the unit stays empty (bunrunc's rules apply)");
    return set.exceptions.length ? [["DevicePolicy", "s", "strict"], ["DeviceAllow", "a(ss)", []]] : [["DevicePolicy", "s", "auto"], ["DeviceAllow", "a(ss)", []]];
  }
  const allow: Value[] = [];
  for (const e of set.exceptions) {
    const kind = e.type === "c" ? "char" : "block";
    let path: string | undefined;
    if (e.major < 0) path = e.minor < 0 ? `${kind}-*` : undefined;
    else if (e.minor < 0) path = deviceGroup(e.type, e.major, (procDevices ??= readFileSync("/proc/devices", "utf8")));
    else path = `/dev/${kind}/${e.major}:${e.minor}`;
    if (path) allow.push([path, e.access]);
    else warn?.(`linux.resources.devices: systemd has no form for ${e.type} ${e.major < 0 ? "*" : e.major}:${e.minor < 0 ? "*" : e.minor}; left out of the unit's device list (bunrunc's rules apply)`);
  }
  return [["DevicePolicy", "s", "strict"], ["DeviceAllow", "a(ss)", allow]];
}

/** The scope's own properties: its process, delegation, slice, and the accounting it turns on. */
export function scopeProperties(version: 1 | 2, scope: { slice: string; pid: number; description: string }): Property[] {
  const accounting = version === 2 ? ["MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting"] : ["MemoryAccounting", "CPUAccounting", "BlockIOAccounting", "TasksAccounting"];
  return [
    ["Description", "s", scope.description],
    ["Slice", "s", scope.slice],
    ["PIDs", "au", [scope.pid]],
    ["Delegate", "b", true],
    // Not stopped or ordered by the shutdown of unrelated units: the container's lifetime is ours.
    ["DefaultDependencies", "b", false],
    ...accounting.map((a): Property => [a, "b", true]),
  ];
}
