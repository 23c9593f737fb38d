// Latency cases, interleaved A/B/floor per iteration: (1) run /bin/true, (2) create + start +
// delete, (5) exec /bin/true into a running container (floor: nsenter into its namespaces), each
// served and direct (BUNRUNC_SERVER=off); (7) the first call with no server running; (8) run of a
// container with a prestart hook (served). Each also counts CPU per container: the launched
// processes' (with what they reaped) and, for bunrunc, the resident server's over the measured
// iterations (bench/server-cpu.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { floorCmd, perContainer, rotated, track, untrack, type CaseResult, type Ctx, type CpuPerContainer } from "./context.ts";
import type { Runtime } from "./runtimes.ts";
import { meterFor, serversOf, stopServersOf, type ServerMeter } from "./server-cpu.ts";
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

/** Which bunrunc a case measures: served by the warm resident server, or direct (server off). */
export type Path = "served" | "direct";

const DIRECT_NOTE = "direct: BUNRUNC_SERVER=off, as for a caller in another mount namespace: create and run exec bunrunc-core (Bun's start); start and delete of a plain container run in the front itself (zig/front_verbs.zig)";

/** The runtimes of a case on `path`: bunrunc served or direct, and the rest as they are. */
const runtimesFor = (ctx: Ctx, path: Path): Runtime[] => (path === "served" ? ctx.runtimes : ctx.directRuntimes);

/** One `run` of `bundle` by `rt`, to exit (run deletes what it created). */
function runOnce(ctx: Ctx, rt: Runtime, bundle: string): Sample {
  const id = ctx.nextId("run");
  track(ctx, rt, id);
  const x = ctx.launcher.measure(rt.run(id, bundle), undefined, rt.env);
  untrack(ctx, rt, id);
  return x;
}

export function runTrue(ctx: Ctx, path: Path = "served"): CaseResult {
  const steps = runtimesFor(ctx, path).map((rt): Step => ({ name: rt.name, meter: meterFor(rt), once: () => runOnce(ctx, rt, ctx.bundles.trueBundle) }));
  const { results, cpu } = interleave(ctx, [...steps, floorStep(ctx)]);
  return {
    id: path === "served" ? "run" : "run-direct",
    title: path === "served" ? "(1) run /bin/true" : "(1d) run /bin/true, direct",
    unit: "ms",
    results,
    cpu,
    notes: ["CPU: both runtimes wait for the container in the foreground, so its init and /bin/true are in the launched figure", ...(path === "direct" ? [DIRECT_NOTE] : [])],
    target: path === "served" ? { vsRunc: 0.4, vsFloor: 3 } : { vsRunc: 0.5 },
  };
}

export function createStartDelete(ctx: Ctx, path: Path = "served"): CaseResult {
  const steps = runtimesFor(ctx, path).map(
    (rt): Step => ({
      name: rt.name,
      meter: meterFor(rt),
      once: () => {
        const id = ctx.nextId("csd");
        track(ctx, rt, id);
        const m = (cmd: string[]) => ctx.launcher.measure(cmd, undefined, rt.env);
        const x = plus(plus(m(rt.create(id, ctx.bundles.trueBundle)), m(rt.start(id))), m(rt.delete(id)));
        untrack(ctx, rt, id);
        return x;
      },
    }),
  );
  const { results, cpu } = interleave(ctx, [...steps, floorStep(ctx)]);
  return {
    id: path === "served" ? "create-start-delete" : "create-start-delete-direct",
    title: path === "served" ? "(2) create + start + delete" : "(2d) create + start + delete, direct",
    unit: "ms",
    results,
    cpu,
    notes: [
      "three runtime processes against one floor run",
      "CPU: the init outlives create (reaped by PID 1), so for neither runtime is it in the launched figure; (4) measures it until start",
      ...(path === "direct" ? [DIRECT_NOTE] : []),
    ],
    target: path === "served" ? { vsRunc: 0.4, vsFloor: 3 } : { vsRunc: 0.6 },
  };
}

/**
 * (7) The first call with no server running: this build's server is stopped (by pid) before each
 * sample, so the front finds nobody listening, starts a server for later calls and runs the call
 * directly; the server it started is stopped again once its start is done (it listens and has
 * joined its own cgroups), so it never runs beside another step, and every sample leaves the same
 * kernel state behind: its cgroup.procs writes leave the cgroup threadgroup lock's RCU sync warm
 * for a few ms, and a runc step right after one skips a grace-period wait (~10 ms). Against runc
 * and the direct path (server off, nothing started).
 */
export function coldRun(ctx: Ctx): CaseResult {
  let unseen = 0;
  const served = ctx.runtimes[0]!;
  const core = served.core!;
  const cold: Step = {
    name: "bunrunc",
    once: () => {
      stopServersOf(core);
      const x = runOnce(ctx, served, ctx.bundles.trueBundle);
      if (!waitUntil(() => serversOf(core).some(started))) unseen++;
      stopServersOf(core);
      return x;
    },
  };
  const direct = ctx.directRuntimes[0]!;
  const steps: Step[] = [cold, ...ctx.runtimes.slice(1).map((rt): Step => ({ name: rt.name, once: () => runOnce(ctx, rt, ctx.bundles.trueBundle) })), { name: "bunrunc-direct", once: () => runOnce(ctx, direct, ctx.bundles.trueBundle) }];
  const { results, cpu } = interleave(ctx, [...steps, floorStep(ctx)]);
  return {
    id: "cold",
    title: "(7) first call, no server running: run /bin/true",
    unit: "ms",
    results,
    cpu,
    notes: [
      "bunrunc: the front finds no server, starts one (double fork; it execs bunrunc-core once this call has exited, or after 100 ms) and execs bunrunc-core for this call; bunrunc-direct: the same call with BUNRUNC_SERVER=off (nothing started)",
      "CPU: the launched process only; the server's start is not in it (it is what every later call saves)",
      ...(unseen ? [`after ${unseen} of the ${ctx.warmup + ctx.runs} cold calls no server was seen within 10 s (each was stopped before the next step all the same)`] : []),
    ],
    target: { vsRunc: 1.0 },
  };
}

/** Whether `cond` came true within `ms`. */
/** A server whose start is done: it joined its own cgroup (src/server/own-cgroup.ts), right after it listens. */
function started(pid: number): boolean {
  try {
    return /:\/bunrunc-core$/m.test(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
  } catch {
    return false;
  }
}

function waitUntil(cond: () => boolean, ms = 10_000): boolean {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    Bun.sleepSync(2);
  }
  return true;
}

/** (8) `run` of a container with a prestart hook (/bin/true), as Docker gives every container with its own network namespace. */
export function hookedRun(ctx: Ctx): CaseResult {
  const steps = ctx.runtimes.map((rt): Step => ({ name: rt.name, meter: meterFor(rt), once: () => runOnce(ctx, rt, ctx.bundles.hookBundle) }));
  const { results, cpu } = interleave(ctx, [...steps, floorStep(ctx)]);
  return {
    id: "hooked",
    title: "(8) run /bin/true with a prestart hook",
    unit: "ms",
    results,
    cpu,
    notes: ["the hook is /bin/true, run by the runtime at create (bunrunc: served, the call parked while the hook runs); CPU: the hook is the server's child for bunrunc (in the server's figure) and runc's child for runc"],
    target: { vsRunc: 0.5 },
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

export function execTrue(ctx: Ctx, path: Path = "served"): CaseResult {
  const base = {
    id: path === "served" ? "exec" : "exec-direct",
    title: path === "served" ? "(5) exec /bin/true" : "(5d) exec /bin/true, direct",
    unit: "ms" as const,
    notes: path === "direct" ? [DIRECT_NOTE] : ([] as string[]),
    target: { vsRunc: 0.5 },
  };
  const targets = runtimesFor(ctx, path).map((rt) => ({ rt, ...runningContainer(ctx, rt) }));
  try {
    const probe = ctx.launcher.tryRun(targets[0]!.rt.exec(targets[0]!.id, ["/bin/true"]), undefined, targets[0]!.rt.env);
    if (probe.code !== 0) return { ...base, results: {}, skipped: `bunrunc exec failed (${probe.stderr || `exit ${probe.code}`})` };
    const steps = targets.map((t): Step => ({ name: t.rt.name, meter: meterFor(t.rt), once: () => ctx.launcher.measure(t.rt.exec(t.id, ["/bin/true"]), undefined, t.rt.env) }));
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
