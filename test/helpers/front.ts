// dist/bunrunc as engines run it: served by the resident server (the default) or direct
// (BUNRUNC_SERVER=off: the front execs the core). For tests that check a behaviour on both paths.
import { test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ffi from "../../src/ffi.ts";
import * as transport from "../../src/ffi-server.ts";

const REPO = resolve(import.meta.dir, "../..");
export const FRONT = join(REPO, "dist/bunrunc");
const CORE = join(REPO, "dist/bunrunc-core");
export const canRunFront = process.getuid?.() === 0 && existsSync(FRONT) && existsSync(CORE);
export const FRONT_SKIP = canRunFront ? "" : " [skipped: needs root and a build (scripts/build.sh)]";
/** What `--debug`'s first log line says when the server ran the call. */
export const SERVED = "served by the resident server";

/** Whether this kernel names a socket's peer by pidfd (SO_PEERPIDFD, Linux 6.5+): without it nothing is served. */
export const peerPidfds = (() => {
  try {
    const pair = ffi.socketpair();
    try {
      ffi.close(transport.peerPidfd(pair[0]));
      return true;
    } finally {
      pair.forEach((fd) => ffi.close(fd));
    }
  } catch {
    return false;
  }
})();

export type Path = "served" | "direct";
export const PATHS: Path[] = ["served", "direct"];

/** `test` for a test on `path`: skipped, saying why, on the served path where no call can be served. */
export function pathTest(path: Path): typeof test {
  return (path === "served" && !peerPidfds ? test.skip : test) as typeof test;
}

/** The name suffix that says why pathTest skipped. */
export function pathSkip(path: Path): string {
  return path === "served" && !peerPidfds ? " [skipped: this kernel lacks SO_PEERPIDFD (Linux 6.5+), so nothing is served]" : "";
}

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
