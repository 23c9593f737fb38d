// exec/terminal tests: a long-running container to exec into, the CLI run as a user runs it, and
// the Python helpers that play a person at a terminal (pty-driver.py) and a console-socket
// receiver such as conmon or containerd's shim (console-receiver.py).
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as ffiModule from "../../../src/ffi.ts";
import * as bunrunc from "../../../src/lib/index.ts";
import type { Spec } from "../../../src/config/types.ts";
import { bunruncArgv } from "../../helpers/cli-path.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../../helpers/bundle.ts";

export const REPO = resolve(import.meta.dir, "../../..");
export const MAIN = join(REPO, "src/main.ts");
export const PTY_DRIVER = join(import.meta.dir, "pty-driver.py");
export const CONSOLE_RECEIVER = join(import.meta.dir, "console-receiver.py");

export const canRunContainers = process.getuid?.() === 0 && typeof (ffiModule as Record<string, unknown>).spawn === "function";
const hasPython = Bun.spawnSync(["python3", "-c", "import pty, socket; socket.recv_fds"], { stderr: "ignore" }).exitCode === 0;
export const canDrivePtys = canRunContainers && hasPython;
export const SKIP = canRunContainers ? "" : " [skipped: needs root and the Zig spawn]";
export const SKIP_PTY = canDrivePtys ? "" : " [skipped: needs root and python3 with pty + socket.recv_fds]";

export interface Container {
  b: TestBundle;
  id: string;
  /** The container init's pid on the host. */
  pid: number;
  /** `bunrunc --root <root>` + args. */
  argv(...args: string[]): string[];
  remove(): Promise<void>;
}

/** A started container running `sleep 600` (busybox rootfs + stty), `edit` may change its spec first. */
export async function startContainer(edit: (spec: Spec) => void = () => {}, opts: { start?: boolean } = {}): Promise<Container> {
  const spec = defaultSpec(["sleep", "600"]);
  spec.process!.noNewPrivileges = false;
  edit(spec);
  const b = makeBundle(spec);
  for (const applet of ["stty", "tty", "pwd", "ls"]) {
    if (!existsSync(join(b.rootfs, "bin", applet))) symlinkSync("busybox", join(b.rootfs, "bin", applet));
  }
  const id = uniqueId("exec");
  try {
    const s = await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    if (opts.start !== false) await bunrunc.start({ root: b.root, id });
    return {
      b,
      id,
      pid: s.pid,
      argv: (...args) => [...bunruncArgv(), "--root", b.root, ...args],
      async remove() {
        reapOrphans();
        for (const c of bunrunc.list({ root: b.root })) await bunrunc.delete({ root: b.root, id: c.id, force: true }).catch(() => {});
        b.cleanup();
      },
    };
  } catch (e) {
    b.cleanup();
    throw e;
  }
}

/**
 * This process is a child subreaper, as the engines' shim and conmon are: a test that kills a
 * bunrunc caller leaves its exec'd processes to us, not to the host's PID 1 (which may reap late
 * or never: a pid namespace's init then cannot finish and delete waits out its bound). Their
 * zombies are reaped before a container is removed (by pidfd; Bun's own children are reaped by
 * Bun as they exit, and none is running then).
 */
if (canRunContainers) ffiModule.setChildSubreaper();

export function reapOrphans(): void {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" || Number(fields[1]) !== process.pid) continue;
    try {
      const pidfd = ffiModule.pidfdOpen(Number(entry));
      ffiModule.waitPidfd(pidfd, true);
      ffiModule.close(pidfd);
    } catch {} // reaped meanwhile
  }
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const RUN_TIMEOUT_MS = 30_000;

export function run(argv: string[], opts: { stdin?: string } = {}): Result {
  // spawnSync blocks the event loop, so bun's per-test timeout cannot end a hang: bound it here.
  const r = Bun.spawnSync(argv, { stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin), stdout: "pipe", stderr: "pipe", timeout: RUN_TIMEOUT_MS, killSignal: "SIGKILL" });
  return { code: r.exitCode ?? 128 + (r.signalCode ? 9 : 0), stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/**
 * Like run, with stdout/stderr going to files: a detached process keeps the runtime's stdio, and
 * a pipe would hold spawnSync until that process exits.
 */
export function runDetached(argv: string[]): Result {
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-test-stdio-"));
  const out = join(dir, "out");
  const err = join(dir, "err");
  try {
    const r = Bun.spawnSync(["sh", "-c", 'out=$1 err=$2; shift 2; exec "$@" >"$out" 2>"$err" </dev/null', "sh", out, err, ...argv]);
    return { code: r.exitCode ?? -1, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `bunrunc exec` in the shared container with the given exec flags/args. */
export function execIn(c: Container, ...args: string[]): Result {
  return run(c.argv("exec", ...args));
}

export interface PtyStep {
  send?: string;
  expect?: string;
  timeout?: number;
  resize?: [number, number];
  signal?: number;
  sleep?: number;
  /** console-receiver.py only: read until the pty closes. */
  eof?: boolean;
}

export interface PtyResult {
  ok: boolean;
  failed: number | null;
  code: number;
  output: string;
}

/** Runs argv on a fresh pty (24x80) driven by `steps`. */
export async function onPty(argv: string[], steps: PtyStep[]): Promise<PtyResult> {
  const p = Bun.spawn(["python3", PTY_DRIVER, JSON.stringify(steps), ...argv], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  if (!out.trim()) throw new Error(`pty-driver printed nothing: ${err}`);
  return JSON.parse(out) as PtyResult;
}

/** The namespace links of a process as the host sees them (type -> "net:[4026...]"). */
export function namespaces(pid: number | "self"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of ["mnt", "pid", "net", "ipc", "uts", "cgroup", "user"]) out[ns] = readlinkSync(`/proc/${pid}/ns/${ns}`);
  return out;
}

export function cgroupOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, "utf8");
}

export async function until(f: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!f()) {
    if (performance.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(10);
  }
}

/** Starts console-receiver.py on `path`; resolves once it listens. `result` is its JSON answer. */
export async function receiver(path: string, mode: "pidfd" | "console", steps: PtyStep[] = []): Promise<{ result: Promise<Record<string, unknown>> }> {
  const p = Bun.spawn(["python3", CONSOLE_RECEIVER, path, mode, JSON.stringify(steps)], { stdout: "pipe", stderr: "pipe" });
  const result = (async () => {
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    if (!out.trim()) throw new Error(`console-receiver printed nothing: ${err}`);
    return JSON.parse(out) as Record<string, unknown>;
  })();
  await until(() => existsSync(path));
  return { result };
}
