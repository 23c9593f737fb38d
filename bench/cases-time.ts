// Latency cases, interleaved A/B/floor per iteration: (1) run /bin/true, (2) create + start +
// delete, (5) exec /bin/true into a running container (floor: nsenter into its namespaces).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { floorCmd, rotated, track, untrack, type CaseResult, type Ctx } from "./context.ts";
import type { Runtime } from "./runtimes.ts";
import { summarize } from "./spawn.ts";

type Step = { name: string; once: (i: number) => number };

/** Runs every step `warmup + runs` times in rotating order; keeps the last `runs` samples. */
function interleave(ctx: Ctx, steps: Step[]): Record<string, ReturnType<typeof summarize>> {
  const samples: Record<string, number[]> = Object.fromEntries(steps.map((s) => [s.name, []]));
  for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
    for (const s of rotated(steps, i)) {
      const ms = s.once(i);
      if (i >= ctx.warmup) samples[s.name]!.push(ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
}

const floorStep = (ctx: Ctx): Step => ({ name: "floor", once: () => ctx.launcher.timed(floorCmd(ctx.bundles.rootfs)) });

/** (0) `--version`: what starting the runtime's process costs before any container work. */
export function versionStartup(ctx: Ctx): CaseResult {
  const steps = ctx.runtimes.map((rt): Step => ({ name: rt.name, once: () => ctx.launcher.timed([rt.bin, "--version"]) }));
  return {
    id: "startup",
    title: "(0) --version (process start + exit)",
    unit: "ms",
    results: interleave(ctx, steps),
    notes: ["no target: what a call the resident server does not serve pays (the front's exec, then Bun start, node:fs, exit) against runc's Go start"],
  };
}

export function runTrue(ctx: Ctx): CaseResult {
  const steps = ctx.runtimes.map(
    (rt): Step => ({
      name: rt.name,
      once: () => {
        const id = ctx.nextId("run");
        track(ctx, rt, id);
        const ms = ctx.launcher.timed(rt.run(id, ctx.bundles.trueBundle));
        untrack(ctx, rt, id); // run deletes what it created
        return ms;
      },
    }),
  );
  const results = interleave(ctx, [...steps, floorStep(ctx)]);
  return { id: "run", title: "(1) run /bin/true", unit: "ms", results, notes: [], target: { vsRunc: 0.4, vsFloor: 3 } };
}

export function createStartDelete(ctx: Ctx): CaseResult {
  const steps = ctx.runtimes.map(
    (rt): Step => ({
      name: rt.name,
      once: () => {
        const id = ctx.nextId("csd");
        track(ctx, rt, id);
        const ms = ctx.launcher.timed(rt.create(id, ctx.bundles.trueBundle)) + ctx.launcher.timed(rt.start(id)) + ctx.launcher.timed(rt.delete(id));
        untrack(ctx, rt, id);
        return ms;
      },
    }),
  );
  const results = interleave(ctx, [...steps, floorStep(ctx)]);
  return {
    id: "create-start-delete",
    title: "(2) create + start + delete",
    unit: "ms",
    results,
    notes: ["three runtime processes against one floor run"],
    target: { vsRunc: 0.4, vsFloor: 3 },
  };
}

/** A running /bin/sleep container of `rt`; returns its id and host pid. */
function runningContainer(ctx: Ctx, rt: Runtime): { id: string; pid: number } {
  const id = ctx.nextId("exec");
  const pidFile = join(ctx.work, `${id}.pid`);
  track(ctx, rt, id);
  ctx.launcher.timed(rt.create(id, ctx.bundles.sleepBundle, pidFile));
  ctx.launcher.timed(rt.start(id));
  return { id, pid: Number(readFileSync(pidFile, "utf8")) };
}

export function execTrue(ctx: Ctx): CaseResult {
  const base = { id: "exec", title: "(5) exec /bin/true", unit: "ms" as const, notes: [] as string[], target: { vsRunc: 0.5 } };
  const targets = ctx.runtimes.map((rt) => ({ rt, ...runningContainer(ctx, rt) }));
  try {
    const probe = ctx.launcher.tryRun(targets[0]!.rt.exec(targets[0]!.id, ["/bin/true"]));
    if (probe.code !== 0) return { ...base, results: {}, skipped: `bunrunc exec failed (${probe.stderr || `exit ${probe.code}`})` };
    const steps = targets.map((t): Step => ({ name: t.rt.name, once: () => ctx.launcher.timed(t.rt.exec(t.id, ["/bin/true"])) }));
    const nsenter = ["nsenter", "--target", String(targets[0]!.pid), "--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd", "/bin/true"];
    const floor: Step = { name: "floor", once: () => ctx.launcher.timed(nsenter) };
    base.notes.push("floor: nsenter into the container's namespaces + /bin/true");
    return { ...base, results: interleave(ctx, [...steps, floor]) };
  } finally {
    for (const t of targets) {
      ctx.launcher.timed(t.rt.delete(t.id));
      untrack(ctx, t.rt, t.id);
    }
  }
}
