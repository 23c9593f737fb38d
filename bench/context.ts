// What every case gets: the launcher, the runtimes, the bundles, the kernel floor command, run
// counts, and a ledger of the containers it made so a failed case still cleans up after itself.
import type { Bundles } from "./bundle.ts";
import type { Runtime } from "./runtimes.ts";
import type { Launcher, Summary } from "./spawn.ts";

export interface Ctx {
  launcher: Launcher;
  /** bunrunc first; the rest are compared against it. */
  runtimes: Runtime[];
  bundles: Bundles;
  work: string;
  runs: number;
  warmup: number;
  concurrency: number;
  concurrentRounds: number;
  /** Containers made and not yet deleted, per runtime name. */
  live: Map<string, Set<string>>;
  nextId(prefix: string): string;
}

export interface CaseResult {
  id: string;
  title: string;
  unit: "ms" | "KiB" | "MiB";
  /** Per runtime name, plus "floor" where the kernel floor applies. */
  results: Record<string, Summary>;
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
