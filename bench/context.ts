// What every case gets: the launcher, the runtimes, the bundles, the kernel floor command, run
// counts, and a ledger of the containers it made so a failed case still cleans up after itself.
import type { Bundles } from "./bundle.ts";
import type { Runtime } from "./runtimes.ts";
import type { ServerCpu } from "./server-cpu.ts";
import type { Launcher, Sample, Summary } from "./spawn.ts";

export interface Ctx {
  launcher: Launcher;
  /** bunrunc first (served by the resident server); the rest are compared against it. */
  runtimes: Runtime[];
  /** The same, with bunrunc's direct path (BUNRUNC_SERVER=off) first. */
  directRuntimes: Runtime[];
  bundles: Bundles;
  work: string;
  runs: number;
  warmup: number;
  concurrency: number;
  concurrentRounds: number;
  /** Containers made and not yet deleted, per runtime name. */
  live: Map<string, Set<string>>;
  nextId(prefix: string): string;
  /** What every id nextId makes starts with (the containers' cgroups are named after their ids). */
  idMarker: string;
}

/** CPU ms per container (mean over the measured calls), user + sys. */
export interface CpuPerContainer {
  /** The launched processes and what they reaped (for bunrunc: the fronts and a foreground init). */
  launched: number;
  /** The resident server's share: its CPU over the measured calls divided by the containers. */
  server?: number;
  /** false when the server's figure fell back to clock ticks (a server thread left mid-case). */
  serverPrecise?: boolean;
  total: number;
  containers: number;
  /** For a runtime with a server: its calls in the measurement, and how many ran directly instead (estimated, spawn.ts HEAVY_CPU_MS). */
  calls?: number;
  direct?: number;
}

export interface CaseResult {
  id: string;
  title: string;
  unit: "ms" | "KiB" | "MiB";
  /** Per runtime name, plus "floor" where the kernel floor applies. */
  results: Record<string, Summary>;
  /** CPU per container, per runtime name (and "floor"), where the case counts it. */
  cpu?: Record<string, CpuPerContainer>;
  /** When it was measured (the run's date; differs between cases of a --merge result). */
  measured?: string;
  /** Why the case did not run (printed, and kept in the JSON). */
  skipped?: string;
  notes: string[];
  target?: { vsRunc?: number; vsFloor?: number; absolute?: number };
}

/** The floor: the same namespaces and a chroot, no runtime. */
export function floorCmd(rootfs: string): string[] {
  return ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "chroot", rootfs, "/bin/true"];
}

/** `order` rotated by `i`: interleaved A/B so drift (cache, thermal, other load) hits all alike. */
export function rotated<T>(order: T[], i: number): T[] {
  const k = i % order.length;
  return [...order.slice(k), ...order.slice(0, k)];
}

export function track(ctx: Ctx, rt: Runtime, id: string): void {
  let s = ctx.live.get(rt.name);
  if (!s) ctx.live.set(rt.name, (s = new Set()));
  s.add(id);
}

export function untrack(ctx: Ctx, rt: Runtime, id: string): void {
  ctx.live.get(rt.name)?.delete(id);
}

/** Per-container CPU from the launched processes' summed CPU and the server's over the same calls. */
export function perContainer(launched: Sample, containers: number, server?: ServerCpu): CpuPerContainer {
  const own = launched.cpuMs / containers;
  if (!server) return { launched: own, total: own, containers };
  const share = server.ms / containers;
  return { launched: own, server: share, serverPrecise: server.precise, total: own + share, containers, calls: launched.launches, direct: launched.heavy };
}
