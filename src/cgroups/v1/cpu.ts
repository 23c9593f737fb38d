// v1 cpu: shares (read back: the kernel clamps), CFS quota/period/burst, realtime runtime/period,
// idle; throttling stats from cpu.stat. cpus/mems belong to the cpuset hierarchy (cpuset.ts).
import type { Controller } from "../controller.ts";
import { EINVAL, readKeyValues, readUint, tryWrite, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { big, CgroupError, FIELD, isSet, type Resources } from "../types.ts";

const F = `${FIELD}.cpu`;

/**
 * Writes `second` after `first`, except when the kernel refuses `first` with EINVAL because the
 * old value of `second` conflicts with it: then `second` first and `first` again.
 */
function writePair(dir: string, first: [string, bigint, string] | null, second: [string, bigint, string] | null): void {
  if (first && second) {
    const errno = tryWrite(dir, first[0], first[1]);
    if (errno === EINVAL) {
      writeControl(dir, second[0], second[1], second[2]);
      writeControl(dir, first[0], first[1], first[2]);
      return;
    }
    if (errno !== 0) writeControl(dir, first[0], first[1], first[2]);
  } else if (first) writeControl(dir, first[0], first[1], first[2]);
  if (second) writeControl(dir, second[0], second[1], second[2]);
}

function apply(dir: string, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  if (isSet(c.shares)) {
    writeControl(dir, "cpu.shares", big(c.shares), `${F}.shares`);
    const got = readUint(dir, "cpu.shares");
    if (got !== big(c.shares)) throw new CgroupError(`${F}.shares`, `${c.shares} is out of range: the kernel set ${got} (${got < big(c.shares) ? "maximum" : "minimum"})`);
  }
  // Realtime first: a SCHED_RR/FIFO process can only join a cgroup with a runtime budget.
  writePair(dir, isSet(c.realtimePeriod) ? ["cpu.rt_period_us", big(c.realtimePeriod), `${F}.realtimePeriod`] : null, isSet(c.realtimeRuntime) ? ["cpu.rt_runtime_us", big(c.realtimeRuntime), `${F}.realtimeRuntime`] : null);
  writePair(dir, isSet(c.period) ? ["cpu.cfs_period_us", big(c.period), `${F}.period`] : null, isSet(c.quota) ? ["cpu.cfs_quota_us", big(c.quota), `${F}.quota`] : null);
  if (c.burst !== undefined && c.burst !== null) writeControl(dir, "cpu.cfs_burst_us", big(c.burst), `${F}.burst`);
  if (c.idle !== undefined && c.idle !== null) writeControl(dir, "cpu.idle", big(c.idle), `${F}.idle`);
}

function stats(dir: string, s: Stats): void {
  const st = readKeyValues(dir, "cpu.stat");
  s.cpu.throttling = { periods: st.get("nr_periods") ?? 0n, throttledPeriods: st.get("nr_throttled") ?? 0n, throttledTime: st.get("throttled_time") ?? 0n };
}

export const cpu: Controller = {
  name: "cpu",
  wants: (r) => {
    const c = r.cpu;
    if (!c) return undefined;
    for (const k of ["shares", "quota", "period", "realtimeRuntime", "realtimePeriod"] as const) if (isSet(c[k])) return `${F}.${k}`;
    if (c.burst !== undefined && c.burst !== null) return `${F}.burst`;
    if (c.idle !== undefined && c.idle !== null) return `${F}.idle`;
    return undefined;
  },
  apply,
  stats,
};
