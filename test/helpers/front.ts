// dist/bunrunc as engines run it: served by the resident server (the default) or direct
// (BUNRUNC_SERVER=off: the front execs the core). For tests that check a behaviour on both paths.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
export const FRONT = join(REPO, "dist/bunrunc");
const CORE = join(REPO, "dist/bunrunc-core");
export const canRunFront = process.getuid?.() === 0 && existsSync(FRONT) && existsSync(CORE);
export const FRONT_SKIP = canRunFront ? "" : " [skipped: needs root and a build (scripts/build.sh)]";
/** What `--debug`'s first log line says when the server ran the call. */
export const SERVED = "served by the resident server";

export type Path = "served" | "direct";
export const PATHS: Path[] = ["served", "direct"];

export interface FrontResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs dist/bunrunc with `args` on `path`, stdout/stderr captured. `detaches`: the call leaves a
 * container process holding its stdio (create, run -d), so they go to /dev/null instead of pipes
 * nobody would close.
 */
export function front(path: Path, args: string[], opts: { cwd?: string; detaches?: boolean } = {}): FrontResult {
  const env = path === "direct" ? { ...process.env, BUNRUNC_SERVER: "off" } : { ...process.env };
  if (path === "served") delete env.BUNRUNC_SERVER;
  const out = opts.detaches ? "ignore" : "pipe";
  const r = Bun.spawnSync([FRONT, ...args], { cwd: opts.cwd, env, stdin: "ignore", stdout: out, stderr: out });
  return { code: r.exitCode ?? -1, stdout: r.stdout?.toString() ?? "", stderr: r.stderr?.toString() ?? "" };
}

/** Calls until one is served (the first call of a build starts the server and runs directly). */
export function serverUp(root: string): void {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (front("served", ["--debug", "--root", root, "state", "nothing-here"]).stderr.includes(SERVED)) return;
    Bun.sleepSync(50);
  }
  throw new Error("the resident server never answered");
}
