// What the server tests share: dist/bunrunc run as an engine would run it, the server's socket
// path and process (found by executable and environment, never by name alone), and waiting.
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { FRONT, peerPidfds, SERVED } from "../helpers/front.ts";
import { defaultSpec, makeBundle, type TestBundle } from "../helpers/bundle.ts";

export { FRONT, peerPidfds, SERVED };

export const REPO = resolve(import.meta.dir, "../..");
export const CORE = join(REPO, "dist/bunrunc-core");
export const FAKE_FRONT = join(import.meta.dir, "fake-front.py");

const built = process.getuid?.() === 0 && existsSync(FRONT) && existsSync(CORE);
export const canRun = built && peerPidfds;
export const SKIP = !built ? " [skipped: needs root and a build (scripts/build.sh)]" : !peerPidfds ? " [skipped: this kernel lacks SO_PEERPIDFD (Linux 6.5+), so every call runs directly]" : "";
export const direct = { BUNRUNC_SERVER: "off" };

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs dist/bunrunc. `detaches`: the call leaves a container process holding its stdio (create,
 * run -d), so stdout and stderr go to /dev/null instead of pipes nobody would close.
 */
export function front(args: string[], opts: { env?: Record<string, string>; cwd?: string; argv0?: string[]; detaches?: boolean } = {}): Out {
  const argv = [...(opts.argv0 ?? []), FRONT, ...args];
  const out = opts.detaches ? "ignore" : "pipe";
  const r = Bun.spawnSync(argv, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdin: "ignore", stdout: out, stderr: out });
  return { code: r.exitCode ?? -1, stdout: r.stdout?.toString() ?? "", stderr: r.stderr?.toString() ?? "" };
}

/** Calls until one is served (the first call of a build starts the server and runs directly). */
export function serverUp(root: string): void {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (front(["--debug", "--root", root, "state", "nothing-here"]).stderr.includes(SERVED)) return;
    Bun.sleepSync(50);
  }
  throw new Error("the resident server never answered");
}

/** zig/proto.zig serverPath: where the server for this build listens. */
export function socketPath(core = CORE): string {
  const st = statSync(core, { bigint: true });
  const hex = (v: bigint) => v.toString(16);
  return `/run/bunrunc-core/2.${hex(st.dev)}.${hex(st.ino)}.${hex(st.size)}.${hex(st.mtimeNs)}.sock`;
}

/** Pids of the resident servers running `core` (its executable, started with BUNRUNC_SERVE). */
export function serverPids(core = CORE): number[] {
  const exe = realpathSync(core);
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/exe`).replace(/ \(deleted\)$/, "") !== exe) continue;
      if (!readFileSync(`/proc/${name}/environ`, "latin1").split("\0").some((kv) => kv.startsWith("BUNRUNC_SERVE="))) continue;
      out.push(Number(name));
    } catch {}
  }
  return out;
}

/** Ends this build's servers (by pid) and waits until they are gone. */
export function stopServers(core = CORE): void {
  const pids = serverPids(core);
  for (const pid of pids) process.kill(pid, "SIGKILL");
  waitFor(() => pids.every((pid) => !existsSync(`/proc/${pid}`)));
}

export function waitFor(cond: () => boolean, ms = 10_000): void {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out");
    Bun.sleepSync(20);
  }
}

export function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

export function scrubTime(s: string): string {
  return s.replace(/time="[^"]*"/g, "time=T");
}

/** Bundles a test file made; `cleanupBundles` (its afterAll) removes them. */
const made: TestBundle[] = [];

/** A busybox bundle running `args`, `edit` applied to its config. */
export function bundle(args: string[], edit: (s: ReturnType<typeof defaultSpec>) => void = () => {}): TestBundle {
  const spec = defaultSpec(args);
  edit(spec);
  const b = makeBundle(spec);
  made.push(b);
  return b;
}

export function cleanupBundles(): void {
  for (const b of made.splice(0)) b.cleanup();
}
