// The fault-injection rig: calls bunrunc (dist/bunrunc-core directly, or the front dist/bunrunc),
// SIGKILLs a process of the call (the call's own process, or the resident server) at a random
// instant or the moment a step of the call shows on the host, then runs `delete --force` and
// checks that nothing of the container is left: no state dir, no cgroup dir named after it in any
// hierarchy, no process (the init the record named, or any orphan of the killed call), no mount.
//
// This process becomes a child subreaper first: the orphans of a killed call (its init) come to
// it rather than to the host's pid 1, so a leftover process is found among its children, and
// their zombies are reaped here by pid (this host's pid 1 never reaps them).
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ffi from "../../src/ffi.ts";
import { makeBundle, defaultSpec, uniqueId, type TestBundle } from "../helpers/bundle.ts";

const REPO = resolve(import.meta.dir, "../..");
export const FRONT = join(REPO, "dist/bunrunc");
export const CORE = join(REPO, "dist/bunrunc-core");
export const canRun = process.getuid?.() === 0 && existsSync(FRONT) && existsSync(CORE);
export const SKIP = canRun ? "" : " [skipped: needs root and a build (scripts/build.sh)]";

export type Verb = "create" | "run -d" | "start" | "delete";
export const VERBS: Verb[] = ["create", "run -d", "start", "delete"];

/** Which process a trial kills: the bunrunc-core running the call directly, the front, or the server. */
export type Victim = "core" | "front" | "server";

export interface Outcome {
  verb: Verb;
  /** How the kill was timed: "delay <ms>" or the step that triggered it. */
  when: string;
  /** The kill landed while the call ran (false: it had finished first). */
  killedMidCall: boolean;
  /** What the state dir held before the cleanup: none, dir only, or state.json's status (+ pid). */
  left: string;
  /** Empty when everything was gone after `delete --force`. */
  problems: string[];
  /** ms the trial took (setup, killed call, delete --force, checks). */
  ms: number;
}

// --- the host's view: processes, cgroups, mounts --------------------------------------------

function stat(pid: number): { state: string; ppid: number; startTime: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: f[0]!, ppid: Number(f[1]), startTime: f[19]! };
  } catch {
    return null;
  }
}

const alive = (pid: number, startTime?: string) => {
  const s = stat(pid);
  return s !== null && s.state !== "Z" && s.state !== "X" && (startTime === undefined || s.startTime === startTime);
};

function pids(): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
}

/** A resident server of this build (src/server): started by our fronts, adopted by us, not a leak. */
export function isServer(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "") === CORE && readFileSync(`/proc/${pid}/cmdline`, "latin1") === "bunrunc-core\0";
  } catch {
    return false;
  }
}

export function serverPids(): number[] {
  return pids().filter(isServer);
}

/** Our children that still run (orphans of killed calls come to us), servers excepted. */
function strayChildren(): string[] {
  const out: string[] = [];
  for (const pid of pids()) {
    const s = stat(pid);
    if (!s || s.ppid !== process.pid || s.state === "Z" || isServer(pid)) continue;
    let what = "";
    try {
      what = `${readlinkSync(`/proc/${pid}/exe`)} ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ")}`;
    } catch {}
    out.push(`${pid} ${what}`);
  }
  return out;
}

/** Reaps the zombies of adopted orphans (every Bun subprocess of ours was awaited, so reaped, before). */
export function reapAdopted(): void {
  for (const pid of pids()) {
    const s = stat(pid);
    if (!s || s.ppid !== process.pid || s.state !== "Z") continue;
    try {
      const fd = ffi.pidfdOpen(pid);
      try {
        ffi.waitPidfd(fd, true);
      } finally {
        ffi.close(fd);
      }
    } catch {}
  }
}

/** The cgroup paths of this process (the containers' go under the caller's: no cgroupsPath). */
const ownPaths = [...new Set(readFileSync("/proc/self/cgroup", "utf8").split("\n").filter(Boolean).map((l) => l.split(":").slice(2).join(":")))];
const hierarchies = (() => {
  const out: string[] = [];
  for (const d of readdirSync("/sys/fs/cgroup", { withFileTypes: true })) if (d.isDirectory()) out.push(join("/sys/fs/cgroup", d.name));
  // A v2-only host: /sys/fs/cgroup is itself the hierarchy.
  if (existsSync("/sys/fs/cgroup/cgroup.controllers")) out.push("/sys/fs/cgroup");
  return out;
})();

/** Directories named after the container under our own cgroup (or the root) of any hierarchy. */
export function cgroupDirs(id: string): string[] {
  const out = new Set<string>();
  for (const h of hierarchies) for (const p of [...ownPaths, "/"]) {
    const d = join(h, p, id);
    if (existsSync(d)) out.add(d);
  }
  return [...out];
}

const mountsUnder = (dir: string) => readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(dir));

// --- one trial -----------------------------------------------------------------------------

export interface Rig {
  bundle: TestBundle;
  /** Runs a call to completion (setup and cleanup calls): exit code and stderr. */
  call(args: string[]): Promise<{ code: number; stderr: string }>;
  /** Starts a call whose process a trial may kill. */
  spawn(args: string[]): { pid: number; exited: Promise<number> };
  /** Median duration of each verb's call, for random kill delays. */
  durations: Record<Verb, number>;
}

export function makeRig(victim: Victim): Rig {
  // The container process runs long; its args mark it as ours.
  const bundle = makeBundle(defaultSpec(["sleep", "1000"]));
  const argv0 = victim === "core" ? [CORE] : [FRONT];
  const env: Record<string, string | undefined> = { ...process.env };
  if (victim === "core") env.BUNRUNC_SERVER = "off";
  else delete env.BUNRUNC_SERVER;
  // The front runs start and delete of a plain container itself (README "The front's own
  // verbs"): the server's trials send them to the server, as a container with hooks still does.
  if (victim === "server") env.BUNRUNC_FAST = "off";
  else delete env.BUNRUNC_FAST;
  const errFile = join(bundle.dir, "stderr");
  const full = (args: string[]) => [...argv0, "--root", bundle.root, ...args];
  const rig: Rig = {
    bundle,
    async call(args) {
      // A file, not a pipe: a created container holds the stderr it was given.
      const fd = openSync(errFile, "w");
      const p = Bun.spawn(full(args), { env, cwd: bundle.dir, stdin: "ignore", stdout: "ignore", stderr: fd });
      closeSync(fd);
      const code = await p.exited;
      return { code, stderr: readFileSync(errFile, "utf8") };
    },
    spawn(args) {
      const p = Bun.spawn(full(args), { env, cwd: bundle.dir, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      return { pid: p.pid, exited: p.exited };
    },
    durations: { create: 10, "run -d": 10, start: 5, delete: 5 },
  };
  return rig;
}

/** Times each verb's call a few times (no kill) so random delays cover the whole call. */
export async function calibrate(rig: Rig): Promise<void> {
  const samples: Record<Verb, number[]> = { create: [], "run -d": [], start: [], delete: [] };
  const timed = async (verb: Verb, args: string[]) => {
    const t = performance.now();
    const r = await rig.call(args);
    if (r.code !== 0) throw new Error(`calibration: ${args.join(" ")}: ${r.stderr}`);
    samples[verb].push(performance.now() - t);
  };
  for (let i = 0; i < 3; i++) {
    const a = uniqueId("cal");
    await timed("create", ["create", "--bundle", rig.bundle.bundle, a]);
    await timed("start", ["start", a]);
    await timed("delete", ["delete", "--force", a]);
    const b = uniqueId("cal");
    await timed("run -d", ["run", "-d", "--bundle", rig.bundle.bundle, b]);
    await rig.call(["delete", "--force", b]);
  }
  for (const v of VERBS) rig.durations[v] = samples[v].sort((x, y) => x - y)[1]!;
}

/** Busy-waits: Bun's timers and sleeps are not finer than a millisecond. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const zombieOrGone = (pid: number) => {
  const s = stat(pid);
  return !s || s.state === "Z";
};

function readRecord(root: string, id: string): { status?: string; pid?: number; bunrunc?: { initStartTime?: string } } | null {
  try {
    return JSON.parse(readFileSync(join(root, id, "state.json"), "utf8"));
  } catch {
    return null;
  }
}

/** Steps of a call that show on the host, polled for; a kill lands right after one appears. */
function steps(verb: Verb, root: string, id: string, initPid: () => number): [string, () => boolean][] {
  const dir = join(root, id);
  const rec = () => readRecord(root, id);
  const creating: [string, () => boolean][] = [
    ["state dir made", () => existsSync(dir)],
    ["record written", () => rec() !== null],
    ["cgroup made", () => cgroupDirs(id).length > 0],
    ["init recorded", () => (rec()?.pid ?? 0) > 0],
    ["status created", () => rec()?.status === "created"],
  ];
  if (verb === "create") return creating;
  if (verb === "run -d") return [...creating, ["fifo gone (started)", () => rec()?.status === "created" && !existsSync(join(dir, "exec.fifo"))]];
  if (verb === "start") return [["fifo gone", () => !existsSync(join(dir, "exec.fifo"))], ["status running", () => rec()?.status === "running"]];
  return [
    ["init gone", () => !alive(initPid())],
    ["cgroup gone", () => cgroupDirs(id).length === 0],
    ["state gone", () => !existsSync(dir)],
  ];
}

/** Kills `pid` per the trial's plan; returns how the kill was timed. */
function killDuring(call: { pid: number }, target: () => number, verb: Verb, rig: Rig, id: string, initPid: () => number): { when: string; killedMidCall: boolean } {
  const byStep = Math.random() < 0.5;
  let when: string;
  if (byStep) {
    const all = steps(verb, rig.bundle.root, id, initPid);
    const [name, seen] = all[Math.floor(Math.random() * all.length)]!;
    const deadline = performance.now() + Math.max(2000, rig.durations[verb] * 20);
    while (!seen() && !zombieOrGone(call.pid) && performance.now() < deadline) spin(0.02);
    const extra = Math.random() * 0.5;
    spin(extra);
    when = `at "${name}" +${extra.toFixed(2)} ms`;
  } else {
    const delay = Math.random() * rig.durations[verb] * 1.2;
    spin(delay);
    when = `delay ${delay.toFixed(2)} ms`;
  }
  const killedMidCall = !zombieOrGone(call.pid);
  const victim = target();
  if (victim > 0) {
    try {
      process.kill(victim, "SIGKILL");
    } catch {}
  }
  return { when, killedMidCall };
}

function describeLeft(root: string, id: string): string {
  if (!existsSync(join(root, id))) return "nothing";
  const r = readRecord(root, id);
  if (!r) return "state dir without state.json";
  return `state.json ${r.status}${r.pid ? " (init pid)" : " (pid 0)"}`;
}

/**
 * One trial: prepares what the verb needs (start: a created container; delete: a created or
 * running one), runs the verb, kills `target()` (default: the call's own process) during it, then
 * `delete --force` and the checks.
 */
export async function trial(rig: Rig, verb: Verb, target?: () => number): Promise<Outcome> {
  const id = uniqueId("fault");
  const t0 = performance.now();
  const { root } = rig.bundle;
  const problems: string[] = [];
  const create = ["create", "--bundle", rig.bundle.bundle, id];
  let args: string[];
  if (verb === "create") args = create;
  else if (verb === "run -d") args = ["run", "-d", "--bundle", rig.bundle.bundle, id];
  else {
    const made = await rig.call(create);
    if (made.code !== 0) return { verb, when: "-", killedMidCall: false, left: "-", problems: [`setup create failed: ${made.stderr.trim()}`], ms: 0 };
    args = ["start", id];
    if (verb === "delete") {
      const running = Math.random() < 0.5;
      if (running) {
        const started = await rig.call(["start", id]);
        if (started.code !== 0) problems.push(`setup start failed: ${started.stderr.trim()}`);
      }
      args = running ? ["delete", "--force", id] : ["delete", id];
    }
  }
  const before = readRecord(root, id);
  const initPid = () => before?.pid ?? readRecord(root, id)?.pid ?? 0;
  const call = rig.spawn(args);
  const { when, killedMidCall } = killDuring(call, target ?? (() => call.pid), verb, rig, id, initPid);
  await call.exited;
  const left = describeLeft(root, id);
  const rec = readRecord(root, id);
  const init = rec?.pid ? { pid: rec.pid, startTime: rec.bunrunc?.initStartTime } : before?.pid ? { pid: before.pid, startTime: before.bunrunc?.initStartTime } : null;

  const del = await rig.call(["delete", "--force", id]);
  if (del.code !== 0) problems.push(`delete --force exited ${del.code}: ${del.stderr.trim()}`);
  if (existsSync(join(root, id))) problems.push(`state dir left: ${readdirSync(join(root, id)).join(", ")}`);
  const cg = cgroupDirs(id);
  if (cg.length) problems.push(`cgroup dirs left: ${cg.join(", ")}`);
  if (init && init.startTime && alive(init.pid, init.startTime)) problems.push(`recorded init ${init.pid} alive`);
  // An init its killed runtime never answered exits by itself (EOF on its sync socket): give it
  // a moment, then anything of ours still running is a leak.
  let stray = strayChildren();
  for (let i = 0; i < 100 && stray.length; i++) {
    await Bun.sleep(20);
    stray = strayChildren();
  }
  if (stray.length) problems.push(`processes left: ${stray.join("; ")}`);
  const mounts = mountsUnder(rig.bundle.dir);
  if (mounts.length) problems.push(`mounts left: ${mounts.join("; ")}`);
  reapAdopted();
  for (const p of stray) {
    // Ours (adopted orphans of the killed call): end them so the next trial starts clean.
    try {
      process.kill(Number(p.split(" ")[0]), "SIGKILL");
    } catch {}
  }
  if (problems.length) await removeLeftovers(root, id);
  return { verb, when, killedMidCall, left, problems, ms: performance.now() - t0 };
}

/** After a failed trial: what it left goes (its processes are ours), so the next trial and the host start clean. */
async function removeLeftovers(root: string, id: string): Promise<void> {
  rmSync(join(root, id), { recursive: true, force: true });
  for (let i = 0; i < 50 && cgroupDirs(id).length; i++) {
    for (const d of cgroupDirs(id)) {
      try {
        for (const pid of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
      } catch {}
      try {
        rmdirSync(d);
      } catch {}
    }
    await Bun.sleep(20);
  }
  reapAdopted();
}

/** Per verb: trials, kills that landed mid-call, what was left before the cleanup; then the failures. */
export function summary(name: string, outcomes: Outcome[]): string {
  const lines = [`${name}: ${outcomes.length} trials, ${outcomes.filter((o) => o.problems.length).length} failed`];
  for (const v of VERBS) {
    const of = outcomes.filter((o) => o.verb === v);
    if (!of.length) continue;
    const left = new Map<string, number>();
    for (const o of of) left.set(o.left, (left.get(o.left) ?? 0) + 1);
    lines.push(`  ${v}: ${of.length} trials, ${of.filter((o) => o.killedMidCall).length} killed mid-call; left before delete --force: ${[...left].map(([k, n]) => `${k} ×${n}`).join(", ")}`);
  }
  const kinds = new Map<string, number>();
  for (const o of outcomes) for (const p of o.problems) kinds.set(p.split(":")[0]!, (kinds.get(p.split(":")[0]!) ?? 0) + 1);
  if (kinds.size) lines.push(`  failures by kind: ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(", ")}`);
  for (const o of outcomes.filter((o) => o.problems.length).slice(0, 10)) lines.push(`  FAIL ${o.verb} ${o.when} (${o.left}): ${o.problems.join(" | ").slice(0, 300)}`);
  return lines.join("\n");
}

export function becomeSubreaper(): void {
  ffi.setChildSubreaper();
}

export { alive };
