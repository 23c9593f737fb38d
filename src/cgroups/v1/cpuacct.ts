// v1 cpuacct: no limits, only usage stats (total, per cpu, user/kernel split).
import type { Controller } from "../controller.ts";
import { readControl, readKeyValues, readUint } from "../files.ts";
import type { Stats } from "../stats.ts";

/** cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds. */
const NS_PER_TICK = 10_000_000n;

const numbers = (text: string | null) => (text ?? "").trim().split(/\s+/).filter(Boolean).map((x) => BigInt(x));

function stats(dir: string, s: Stats): void {
  const u = s.cpu.usage;
  u.total = readUint(dir, "cpuacct.usage");
  u.percpu = numbers(readControl(dir, "cpuacct.usage_percpu"));
  // usage_all: "cpu user system" per line after a header.
  const all = (readControl(dir, "cpuacct.usage_all") ?? "").split("\n").slice(1).map((l) => numbers(l));
  if (all.length && all.every((row) => row.length === 3)) {
    u.percpu_kernel = all.map((row) => row[2]!);
    u.percpu_user = all.map((row) => row[1]!);
  }
  const st = readKeyValues(dir, "cpuacct.stat");
  u.user = (st.get("user") ?? 0n) * NS_PER_TICK;
  u.kernel = (st.get("system") ?? 0n) * NS_PER_TICK;
}

export const cpuacct: Controller = { name: "cpuacct", wants: () => undefined, apply: () => {}, stats };
