// For the tests of the front's own verbs: dist/bunrunc on the direct path with its start/state/kill/delete
// (zig/front_verbs.zig) or without them (BUNRUNC_FAST=off: every call execs bunrunc-core), real
// containers in each status, and strace's execs (none of bunrunc-core: the front ran the call alone).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { FRONT, canRunFront } from "../helpers/front.ts";

export { FRONT };
export const SKIP = canRunFront ? "" : " [skipped: needs root and a build (scripts/build.sh)]";
export const haveStrace = Bun.spawnSync(["sh", "-c", "command -v strace"]).exitCode === 0;
export const STRACE_SKIP = haveStrace ? "" : " [skipped: strace is not installed]";

export type Status = "created" | "running" | "paused" | "stopped";
export const STATUSES: Status[] = ["created", "running", "paused", "stopped"];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const env = (fast: boolean, extra: Record<string, string> = {}) => {
  const e: Record<string, string | undefined> = { ...process.env, BUNRUNC_SERVER: "off", ...extra };
  if (fast) delete e.BUNRUNC_FAST;
  else e.BUNRUNC_FAST = "off";
  delete e.BUNRUNC_TIMING;
  return e;
};

/** dist/bunrunc `args`, direct; `fast` false turns the front's own verbs off. */
export function call(args: string[], fast = true): Result {
  const r = Bun.spawnSync([FRONT, ...args], { env: env(fast), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export const CORE = `${FRONT}-core`;

/** Whether running `args` exec'd bunrunc-core (strace -f sees every execve), and its exit code. */
export function execs(args: string[], fast = true): { core: boolean; code: number } {
  const out = join(mkdtempSync(join(tmpdir(), "bunrunc-strace-")), "out");
  try {
    const r = Bun.spawnSync(["strace", "-f", "-qq", "-e", "trace=execve", "-o", out, FRONT, ...args], { env: env(fast), stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    const lines = readFileSync(out, "utf8").split("\n");
    const front = lines.filter((l) => l.includes(`execve("${FRONT}"`)).length;
    if (front !== 1) throw new Error(`strace saw ${front} execs of the front`);
    return { core: lines.some((l) => l.includes(`execve("${CORE}"`) && !l.includes("ENOENT")), code: r.exitCode ?? -1 };
  } finally {
    rmSync(dirname(out), { recursive: true, force: true });
  }
}

/** A bundle running `sleep` (pid 1 of its own namespace) and the ids made in it. */
export class Rig {
  readonly b: TestBundle;
  readonly ids: string[] = [];
  constructor(args = ["sleep", "1000"]) {
    this.b = makeBundle(defaultSpec(args));
  }

  get root(): string {
    return this.b.root;
  }

  /** A container brought to `status` through bunrunc-core (the path under test is not used to set up). */
  make(status: Status): string {
    const id = uniqueId("fast");
    this.ids.push(id);
    const r = Bun.spawnSync([FRONT, "--root", this.root, "create", "--bundle", this.b.bundle, id], { env: env(false), stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    if (r.exitCode !== 0) throw new Error(`create ${id} failed (${r.exitCode})`);
    if (status === "created") return id;
    this.core(["start", id]);
    if (status === "paused") this.core(["pause", id]);
    if (status === "stopped") {
      this.core(["kill", id, "KILL"]);
      this.waitStatus(id, "stopped");
    }
    return id;
  }

  core(args: string[]): Result {
    const r = call(["--root", this.root, ...args], false);
    if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
    return r;
  }

  /** The status bunrunc-core reports, or "gone". */
  status(id: string): string {
    const r = call(["--root", this.root, "state", id], false);
    return r.code === 0 ? (JSON.parse(r.stdout) as { status: string }).status : "gone";
  }

  waitStatus(id: string, want: string): void {
    for (let i = 0; i < 500 && this.status(id) !== want; i++) Bun.sleepSync(10);
  }

  saved(id: string): { pid: number; bunrunc: { cgroupPaths: Record<string, string> } } {
    return JSON.parse(readFileSync(join(this.root, id, "state.json"), "utf8"));
  }

  cgroupDirs(id: string): string[] {
    return [...new Set(Object.values(this.saved(id).bunrunc.cgroupPaths))];
  }

  /** Removes every container (through bunrunc-core) and the bundle. */
  cleanup(): void {
    for (const id of this.ids) if (existsSync(join(this.root, id))) call(["--root", this.root, "delete", "--force", id], false);
    this.b.cleanup();
  }
}

/** /proc/PID/stat's start time (field 22). */
export function startTimeOf(pid: number): bigint {
  const text = readFileSync(`/proc/${pid}/stat`, "latin1");
  return BigInt(text.slice(text.lastIndexOf(")") + 2).split(" ")[19]!);
}

/** Whether `pid` runs (not a zombie). */
export function alive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !/^[ZX]$/.test(text.slice(text.lastIndexOf(")") + 2).split(" ")[0]!);
  } catch {
    return false;
  }
}
