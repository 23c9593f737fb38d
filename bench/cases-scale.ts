// Scale and footprint: (3) N containers created concurrently, then started and deleted (wall
// time; then a separate round under the memory sampler, so sampling never skews the timing), and
// (4) the memory of the process that waits between create and start (and the CPU it spent
// getting there, which no launched process reaps). (3) counts CPU per container as the latency
// cases do: the launched processes' and, for bunrunc, the resident server's over the timed rounds.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { floorCmd, perContainer, rotated, track, untrack, type CaseResult, type Ctx, type CpuPerContainer } from "./context.ts";
import { startSampler, type MemoryPeak } from "./memory.ts";
import type { Runtime } from "./runtimes.ts";
import { meterFor } from "./server-cpu.ts";
import { summarize, type Sample } from "./spawn.ts";

interface Phases {
  create: number;
  start: number;
  delete: number;
  /** All the launched processes of the three phases (wall: their sum). */
  all: Sample;
}

const none: Sample = { ms: 0, cpuMs: 0, launches: 0, heavy: 0 };
const plus = (a: Sample, b: Sample): Sample => ({ ms: a.ms + b.ms, cpuMs: a.cpuMs + b.cpuMs, launches: a.launches + b.launches, heavy: a.heavy + b.heavy });

async function lifecycleOfMany(ctx: Ctx, rt: Runtime): Promise<Phases> {
  const ids = Array.from({ length: ctx.concurrency }, () => ctx.nextId("many"));
  for (const id of ids) track(ctx, rt, id);
  const create = await ctx.launcher.concurrent(ids.map((id) => rt.create(id, ctx.bundles.trueBundle)));
  const start = await ctx.launcher.concurrent(ids.map((id) => rt.start(id)));
  const del = await ctx.launcher.concurrent(ids.map((id) => rt.delete(id)));
  for (const id of ids) untrack(ctx, rt, id);
  return { create: create.ms, start: start.ms, delete: del.ms, all: plus(plus(create, start), del) };
}

const total = (p: Phases) => p.create + p.start + p.delete;

export async function concurrentMany(ctx: Ctx): Promise<CaseResult[]> {
  const wall: Record<string, number[]> = { floor: [] };
  const phases: Record<string, Phases[]> = {};
  for (const rt of ctx.runtimes) wall[rt.name] = [];
  const floor = { name: "floor" };
  const launched: Record<string, Sample> = { floor: none };
  const serverMs: Record<string, { ms: number; precise: boolean }> = {};
  // One container each first, so a resident server is up (and warm) before the first timed round.
  for (const rt of ctx.runtimes) {
    const id = ctx.nextId("many-warm");
    track(ctx, rt, id);
    ctx.launcher.timed(rt.run(id, ctx.bundles.trueBundle));
    untrack(ctx, rt, id);
  }
  for (let i = 0; i < ctx.concurrentRounds; i++) {
    for (const who of rotated<Runtime | typeof floor>([...ctx.runtimes, floor], i)) {
      if (who === floor) {
        const x = await ctx.launcher.concurrent(Array.from({ length: ctx.concurrency }, () => floorCmd(ctx.bundles.rootfs)));
        wall.floor!.push(x.ms);
        launched.floor = plus(launched.floor!, x);
      } else {
        const rt = who as Runtime;
        const meter = meterFor(rt);
        meter?.start();
        const p = await lifecycleOfMany(ctx, rt);
        const server = meter?.stop();
        wall[rt.name]!.push(total(p));
        (phases[rt.name] ??= []).push(p);
        launched[rt.name] = plus(launched[rt.name] ?? none, p.all);
        if (server) {
          const sum = (serverMs[rt.name] ??= { ms: 0, precise: true });
          sum.ms += server.ms;
          sum.precise &&= server.precise;
        }
      }
    }
  }
  const containers = ctx.concurrency * ctx.concurrentRounds;
  const cpu: Record<string, CpuPerContainer> = Object.fromEntries(Object.entries(launched).map(([k, x]) => [k, perContainer(x, containers, serverMs[k])]));
  const rss: Record<string, number[]> = {};
  const pss: Record<string, number[]> = {};
  const server: Record<string, number[]> = {};
  const serverPss: Record<string, number[]> = {};
  const sampledDirect: string[] = [];
  for (const rt of ctx.runtimes) {
    const sampler = await startSampler(rt.comms, ctx.idMarker, rt.core);
    let peak: MemoryPeak;
    let round: Phases | undefined;
    try {
      round = await lifecycleOfMany(ctx, rt);
    } finally {
      peak = await sampler.stop();
    }
    rss[rt.name] = [peak.rssKiB / 1024];
    pss[rt.name] = [peak.pssKiB / 1024];
    if (rt.core) {
      server[rt.name] = [peak.serverRssKiB / 1024];
      serverPss[rt.name] = [peak.serverPssKiB / 1024];
    }
    if (rt.core) sampledDirect.push(`${rt.name}: ${round.all.heavy} of ${round.all.launches} calls of the sampled round ran directly (a Bun process each; spawn.ts HEAVY_CPU_MS)`);
  }
  const n = ctx.concurrency;
  const sum = (r: Record<string, number[]>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, summarize(v)]));
  return [
    {
      id: "concurrent-wall",
      title: `(3) ${n} concurrent create, start, delete: wall`,
      unit: "ms",
      results: sum(wall),
      cpu,
      notes: [
        `each phase starts all ${n} processes at once; floor: ${n} concurrent unshare+chroot`,
        phaseNote(phases),
        "CPU per container: the create, start and delete processes (the inits outlive create, reaped by PID 1: see (4)) and bunrunc's server over the timed rounds",
      ],
    },
    {
      id: "concurrent-rss",
      title: `(3) ${n} concurrent: peak sum of RSS`,
      unit: "MiB",
      results: sum(rss),
      notes: [
        "runtime processes only: CLI processes (for bunrunc: the fronts and the resident server), the inits waiting for start; one sampled round",
        "only this bench's: other checkouts' servers and containers on a shared host have the same names and are left out",
        ...sampledDirect,
      ],
      target: { vsRunc: 0.3 },
    },
    {
      id: "concurrent-pss",
      title: `(3) ${n} concurrent: peak sum of PSS`,
      unit: "MiB",
      results: sum(pss),
      notes: ["PSS shares a page between the processes mapping it (the executable's text): memory actually taken"],
    },
    {
      id: "concurrent-server-rss",
      title: `(3) ${n} concurrent: bunrunc's server, peak RSS`,
      unit: "MiB",
      results: sum(server),
      notes: ["the resident server alone (in the sums above too); runc has none"],
    },
    {
      id: "concurrent-server-pss",
      title: `(3) ${n} concurrent: bunrunc's server, peak PSS`,
      unit: "MiB",
      results: sum(serverPss),
      notes: ["its share of pages it maps with other processes (the executable's text, with direct calls' Bun processes if any)"],
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

/** CPU ms a live process has run so far, over all its threads (schedstat: nanoseconds). */
function threadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  return ns / 1e6;
}

export function waitingInitRss(ctx: Ctx): CaseResult {
  const kib: Record<string, number[]> = {};
  const initCpu: Record<string, number[]> = {};
  const comm: Record<string, string> = {};
  for (let i = 0; i < ctx.runs; i++) {
    for (const rt of rotated(ctx.runtimes, i)) {
      const id = ctx.nextId("wait");
      const pidFile = join(ctx.work, `${id}.pid`);
      track(ctx, rt, id);
      ctx.launcher.timed(rt.create(id, ctx.bundles.trueBundle, pidFile));
      const pid = Number(readFileSync(pidFile, "utf8"));
      (kib[rt.name] ??= []).push(statusKiB(pid, "VmRSS"));
      (initCpu[rt.name] ??= []).push(threadsCpuMs(pid));
      comm[rt.name] = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      ctx.launcher.timed(rt.delete(id));
      untrack(ctx, rt, id);
    }
  }
  const results = Object.fromEntries(Object.entries(kib).map(([k, v]) => [k, summarize(v)]));
  const who = Object.entries(comm).map(([k, v]) => `${k}: ${v}`).join(", ");
  const cpu = Object.entries(initCpu).map(([k, v]) => `${k} ${summarize(v).median.toFixed(2)} ms`).join(", ");
  return {
    id: "waiting-rss",
    title: "(4) RSS of the process waiting for start",
    unit: "KiB",
    results,
    notes: [`the process is ${who}`, `CPU it ran from its clone until created (median; in no launched process's figure in (2) and (3)): ${cpu}`],
    target: { absolute: 1024 },
  };
}
