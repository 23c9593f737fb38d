// Scale and footprint: (3) N containers created concurrently, then started and deleted (wall
// time; then a separate round under the memory sampler, so sampling never skews the timing), and
// (4) the memory of the process that waits between create and start.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { floorCmd, rotated, track, untrack, type CaseResult, type Ctx } from "./context.ts";
import { startSampler, type MemoryPeak } from "./memory.ts";
import type { Runtime } from "./runtimes.ts";
import { summarize } from "./spawn.ts";

interface Phases {
  create: number;
  start: number;
  delete: number;
}

async function lifecycleOfMany(ctx: Ctx, rt: Runtime): Promise<Phases> {
  const ids = Array.from({ length: ctx.concurrency }, () => ctx.nextId("many"));
  for (const id of ids) track(ctx, rt, id);
  const create = await ctx.launcher.concurrent(ids.map((id) => rt.create(id, ctx.bundles.trueBundle)));
  const start = await ctx.launcher.concurrent(ids.map((id) => rt.start(id)));
  const del = await ctx.launcher.concurrent(ids.map((id) => rt.delete(id)));
  for (const id of ids) untrack(ctx, rt, id);
  return { create, start, delete: del };
}

const total = (p: Phases) => p.create + p.start + p.delete;

export async function concurrentMany(ctx: Ctx): Promise<CaseResult[]> {
  const wall: Record<string, number[]> = { floor: [] };
  const phases: Record<string, Phases[]> = {};
  for (const rt of ctx.runtimes) wall[rt.name] = [];
  const floor = { name: "floor" };
  for (let i = 0; i < ctx.concurrentRounds; i++) {
    for (const who of rotated<Runtime | typeof floor>([...ctx.runtimes, floor], i)) {
      if (who === floor) wall.floor!.push(await ctx.launcher.concurrent(Array.from({ length: ctx.concurrency }, () => floorCmd(ctx.bundles.rootfs))));
      else {
        const p = await lifecycleOfMany(ctx, who as Runtime);
        wall[who.name]!.push(total(p));
        (phases[who.name] ??= []).push(p);
      }
    }
  }
  const rss: Record<string, number[]> = {};
  const pss: Record<string, number[]> = {};
  for (const rt of ctx.runtimes) {
    const sampler = await startSampler(rt.comms);
    let peak: MemoryPeak;
    try {
      await lifecycleOfMany(ctx, rt);
    } finally {
      peak = await sampler.stop();
    }
    rss[rt.name] = [peak.rssKiB / 1024];
    pss[rt.name] = [peak.pssKiB / 1024];
  }
  const n = ctx.concurrency;
  const sum = (r: Record<string, number[]>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, summarize(v)]));
  return [
    {
      id: "concurrent-wall",
      title: `(3) ${n} concurrent create, start, delete: wall`,
      unit: "ms",
      results: sum(wall),
      notes: [`each phase starts all ${n} processes at once; floor: ${n} concurrent unshare+chroot`, phaseNote(phases)],
    },
    {
      id: "concurrent-rss",
      title: `(3) ${n} concurrent: peak sum of RSS`,
      unit: "MiB",
      results: sum(rss),
      notes: ["runtime processes only: CLI processes (for bunrunc: the fronts and the resident server), the inits waiting for start; one sampled round"],
      target: { vsRunc: 0.3 },
    },
    {
      id: "concurrent-pss",
      title: `(3) ${n} concurrent: peak sum of PSS`,
      unit: "MiB",
      results: sum(pss),
      notes: ["PSS shares a page between the processes mapping it (the executable's text): memory actually taken"],
    },
  ];
}

function phaseNote(phases: Record<string, Phases[]>): string {
  const med = (xs: number[]) => summarize(xs).median.toFixed(0);
  return Object.entries(phases)
    .map(([name, ps]) => `${name}: create ${med(ps.map((p) => p.create))} + start ${med(ps.map((p) => p.start))} + delete ${med(ps.map((p) => p.delete))} ms`)
    .join("; ");
}

function statusKiB(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(m[1]);
}

export function waitingInitRss(ctx: Ctx): CaseResult {
  const kib: Record<string, number[]> = {};
  const comm: Record<string, string> = {};
  for (let i = 0; i < ctx.runs; i++) {
    for (const rt of rotated(ctx.runtimes, i)) {
      const id = ctx.nextId("wait");
      const pidFile = join(ctx.work, `${id}.pid`);
      track(ctx, rt, id);
      ctx.launcher.timed(rt.create(id, ctx.bundles.trueBundle, pidFile));
      const pid = Number(readFileSync(pidFile, "utf8"));
      (kib[rt.name] ??= []).push(statusKiB(pid, "VmRSS"));
      comm[rt.name] = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      ctx.launcher.timed(rt.delete(id));
      untrack(ctx, rt, id);
    }
  }
  const results = Object.fromEntries(Object.entries(kib).map(([k, v]) => [k, summarize(v)]));
  const who = Object.entries(comm).map(([k, v]) => `${k}: ${v}`).join(", ");
  return { id: "waiting-rss", title: "(4) RSS of the process waiting for start", unit: "KiB", results, notes: [`the process is ${who}`], target: { absolute: 1024 } };
}
