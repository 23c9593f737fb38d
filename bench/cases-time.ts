// Latency cases, interleaved A/B/floor per iteration: (1) run /bin/true, (2) create + start +
// delete, (5) exec /bin/true into a running container (floor: nsenter into its namespaces).
// Each also counts CPU per container: the launched processes' (with what they reaped) and, for
// bunrunc, the resident server's over the measured iterations (bench/server-cpu.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { floorCmd, perContainer, rotated, track, untrack, type CaseResult, type Ctx, type CpuPerContainer } from "./context.ts";
import type { Runtime } from "./runtimes.ts";
import { meterFor, type ServerMeter } from "./server-cpu.ts";
import { summarize, type Sample, type Summary } from "./spawn.ts";

type Step = { name: string; once: (i: number) => Sample; meter?: ServerMeter };

const plus = (a: Sample, b: Sample): Sample => ({ ms: a.ms + b.ms, cpuMs: a.cpuMs + b.cpuMs, launches: a.launches + b.launches, heavy: a.heavy + b.heavy });

/**
 * Runs every step `warmup + runs` times in rotating order; keeps the last `runs` samples. A step's
 * server meter runs over those same iterations (the warm-up has started the server by then).
 */
function interleave(ctx: Ctx, steps: Step[]): { results: Record<string, Summary>; cpu: Record<string, CpuPerContainer> } {
  const samples: Record<string, Sample[]> = Object.fromEntries(steps.map((s) => [s.name, []]));
  for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
    if (i === ctx.warmup) for (const s of steps) s.meter?.start();
    for (const s of rotated(steps, i)) {
      const x = s.once(i);
      if (i >= ctx.warmup) samples[s.name]!.push(x);
    }
  }
  const server = Object.fromEntries(steps.flatMap((s) => (s.meter ? [[s.name, s.meter.stop()]] : [])));
  const results = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v.map((x) => x.ms))]));
  const cpu = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, perContainer(v.reduce(plus), v.length, server[k])]));
  return { results, cpu };
}

const floorStep = (ctx: Ctx): Step => ({ name: "floor", once: () => ctx.launcher.measure(floorCmd(ctx.bundles.rootfs)) });

/** (0) `--version`: what starting the runtime's process costs before any container work. */
export function versionStartup(ctx: Ctx): CaseResult {
  const steps = ctx.runtimes.map((rt): Step => ({ name: rt.name, once: () => ctx.launcher.measure([rt.bin, "--version"]) }));
  return {
    id: "startup",
    title: "(0) --version (process start + exit)",
    unit: "ms",
    ...interleave(ctx, steps),
    notes: ["no target: what a call the resident server does not serve pays (the front's exec, then Bun start, node:fs, exit) against runc's Go start"],
  };
}

export function runTrue(ctx: Ctx): CaseResult {
  const steps = ctx.runtimes.map(
    (rt): Step => ({
      name: rt.name,
      meter: meterFor(rt),
      once: () => {
        const id = ctx.nextId("run");
        track(ctx, rt, id);
        const x = ctx.launcher.measure(rt.run(id, ctx.bundles.trueBundle));
        untrack(ctx, rt, id); // run deletes what it created
        return x;
      },
    }),
  );
  const { results, cpu } = interleave(ctx, [...steps, floorStep(ctx)]);
  return {
    id: "run",
    title: "(1) run /bin/true",
    unit: "ms",
    results,
    cpu,
    notes: ["CPU: both runtimes wait for the container in the foreground, so its init and /bin/true are in the launched figure"],
    target: { vsRunc: 0.4, vsFloor: 3 },
  };
}

export function createStartDelete(ctx: Ctx): CaseResult {
  const steps = ctx.runtimes.map(
    (rt): Step => ({
      name: rt.name,
      meter: meterFor(rt),
      once: () => {
        const id = ctx.nextId("csd");
        track(ctx, rt, id);
        const x = plus(plus(ctx.launcher.measure(rt.create(id, ctx.bundles.trueBundle)), ctx.launcher.measure(rt.start(id))), ctx.launcher.measure(rt.delete(id)));
        untrack(ctx, rt, id);
        return x;
      },
    }),
  );
  const { results, cpu } = interleave(ctx, [...steps, floorStep(ctx)]);
  return {
    id: "create-start-delete",
    title: "(2) create + start + delete",
    unit: "ms",
    results,
    cpu,
    notes: [
      "three runtime processes against one floor run",
      "CPU: the init outlives create (reaped by PID 1), so for neither runtime is it in the launched figure; (4) measures it until start",
    ],
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
    const steps = targets.map((t): Step => ({ name: t.rt.name, meter: meterFor(t.rt), once: () => ctx.launcher.measure(t.rt.exec(t.id, ["/bin/true"])) }));
    const nsenter = ["nsenter", "--target", String(targets[0]!.pid), "--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd", "/bin/true"];
    const floor: Step = { name: "floor", once: () => ctx.launcher.measure(nsenter) };
    base.notes.push("floor: nsenter into the container's namespaces + /bin/true");
    base.notes.push("CPU: both runtimes wait for the exec'd process, so it is in the launched figure");
    return { ...base, ...interleave(ctx, [...steps, floor]) };
  } finally {
    for (const t of targets) {
      ctx.launcher.timed(t.rt.delete(t.id));
      untrack(ctx, t.rt, t.id);
    }
  }
}
