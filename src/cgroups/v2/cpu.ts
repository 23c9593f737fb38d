// v2 cpu: cpu.weight (from the spec's shares, runc's mapping), cpu.max "quota period",
// cpu.max.burst, cpu.idle. Realtime has no v2 file: an error. Stats from cpu.stat.
import type { Controller } from "../controller.ts";
import { EINVAL, readControl, readKeyValues, tryWrite, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { big, CgroupError, FIELD, isSet, type Resources } from "../types.ts";

const F = `${FIELD}.cpu`;
const DEFAULT_PERIOD = 100_000n;

/**
 * cgroup v1 shares [2, 262144] -> v2 weight [1, 10000]: runc's curve through (2, 1),
 * (1024, 100) and (262144, 10000), so the default shares give the default weight.
 */
export function sharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  if (shares <= 2n) return 1n;
  if (shares >= 262144n) return 10000n;
  const l = Math.log2(Number(shares));
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return BigInt(Math.ceil(10 ** exponent));
}

/** The new cpu.max line; a missing half keeps its current value. */
function cpuMax(dir: string, quota: bigint | null, period: bigint | null): string {
  const [curQuota, curPeriod] = (readControl(dir, "cpu.max") ?? "max 100000").trim().split(/\s+/);
  const q = quota === null ? (curQuota ?? "max") : quota < 0n ? "max" : String(quota);
  const p = period ?? BigInt(curPeriod ?? DEFAULT_PERIOD);
  return `${q} ${p}`;
}

function apply(dir: string, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  if (isSet(c.realtimeRuntime)) throw new CgroupError(`${F}.realtimeRuntime`, "cgroup v2 has no realtime CPU budget");
  if (isSet(c.realtimePeriod)) throw new CgroupError(`${F}.realtimePeriod`, "cgroup v2 has no realtime CPU period");
  if (c.idle !== undefined && c.idle !== null) writeControl(dir, "cpu.idle", big(c.idle), `${F}.idle`);
  if (isSet(c.shares)) writeControl(dir, "cpu.weight", sharesToWeight(big(c.shares)), `${F}.shares`);
  const quota = isSet(c.quota) ? big(c.quota) : null;
  const period = isSet(c.period) ? big(c.period) : null;
  const burst = c.burst !== undefined && c.burst !== null ? big(c.burst) : null;
  // A larger burst may be refused until the new quota is in place: then write it afterwards.
  let burstLater = false;
  if (burst !== null) {
    const errno = tryWrite(dir, "cpu.max.burst", burst);
    if (errno === EINVAL && quota !== null) burstLater = true;
    else if (errno !== 0) writeControl(dir, "cpu.max.burst", burst, `${F}.burst`);
  }
  if (quota !== null || period !== null) writeControl(dir, "cpu.max", cpuMax(dir, quota, period), quota !== null ? `${F}.quota` : `${F}.period`);
  if (burstLater) writeControl(dir, "cpu.max.burst", burst!, `${F}.burst`);
}

function stats(dir: string, s: Stats): void {
  const st = readKeyValues(dir, "cpu.stat");
  const ns = (k: string) => (st.get(k) ?? 0n) * 1000n;
  s.cpu.usage.total = ns("usage_usec");
  s.cpu.usage.user = ns("user_usec");
  s.cpu.usage.kernel = ns("system_usec");
  s.cpu.throttling = { periods: st.get("nr_periods") ?? 0n, throttledPeriods: st.get("nr_throttled") ?? 0n, throttledTime: ns("throttled_usec") };
}

export const cpu: Controller = {
  name: "cpu",
  wants: (r) => {
    const c = r.cpu;
    if (!c) return undefined;
    for (const k of ["shares", "quota", "period"] as const) if (isSet(c[k])) return `${F}.${k}`;
    if (c.burst !== undefined && c.burst !== null) return `${F}.burst`;
    if (c.idle !== undefined && c.idle !== null) return `${F}.idle`;
    return undefined;
  },
  apply,
  stats,
};
