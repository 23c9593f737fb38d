// OCI hooks run by the runtime, in the runtime's namespaces: prestart (deprecated), createRuntime
// and createContainer at the init's WaitParent(hooks) stop, poststart after start, poststop on
// delete. startContainer hooks run inside the container (src/plan/compile.ts). Each hook gets the
// state JSON on stdin, exactly its own env, args[0] as argv0, and SIGKILL when its timeout expires.
// Its stdin and stderr are memory files (memfd), not pipes: nothing has to be written or drained while
// it runs, so a caller may leave it running unattended — the resident server runs other calls
// meanwhile (setHookPark, src/server/serve.ts), and a hook writing more than a pipe holds never
// blocks on a reader that is busy elsewhere.
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";
import * as ffi from "../ffi.ts";
import { BunruncError } from "../base/errors.ts";
import type { SpecHook, SpecHooks } from "../config/types.ts";

export type HookKind = keyof SpecHooks;

const STDERR_SHOWN_MAX = 200;
/** The end of a hook's stderr that is read for the message (its last line is shown). */
const STDERR_READ_MAX = 64 * 1024;

/**
 * Past its timeout and SIGKILL, a hook still running is given up on after this much longer: a task
 * in D state or frozen in a cgroup v1 freezer does not die until it runs again, and waiting for it
 * would hold its caller (in the resident server: every caller) for as long. Its call fails as timed
 * out; Bun reaps the process (our child) whenever it does end. A second: a killed process that can
 * run exits within milliseconds, so only one that cannot waits this long.
 */
const HOOK_KILL_WAIT_MS = 1000;

/**
 * Called once a hook runs, before it is waited for: resolves when its caller may wait for it.
 * The default waits at once; the resident server parks the call there and serves others until the
 * hook's process exits or `giveUpAt` (Date.now() time; Infinity: no timeout) passes.
 */
export type HookPark = (pid: number, giveUpAt: number) => Promise<void>;
let park: HookPark = () => Promise.resolve();

export function setHookPark(p: HookPark): void {
  park = p;
}

/**
 * An anonymous read-write memory file: never a file in a directory. The resident server runs hooks
 * as root for any caller, whose TMPDIR could name a FIFO (its open would hold the server), a
 * symlink or a directory it cannot write; a memfd depends on none of them.
 */
function scratchFile(name: string): number {
  return ffi.memfdCreate(`bunrunc-hook-${name}`);
}

/** A file holding `text`, for a hook's stdin (read from its start: the hook gets its own open of it). */
function stdinFile(text: string): number {
  const fd = scratchFile("stdin");
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off, off);
  // A new open file description at offset 0: the hook's reads do not move ours, and it reads from the start.
  const own = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY);
  closeSync(fd);
  return own;
}

/** The last STDERR_READ_MAX bytes written to `fd`. */
function tail(fd: number): string {
  const size = fstatSync(fd).size;
  const len = Math.min(size, STDERR_READ_MAX);
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, size - len + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got).toString("utf8");
}

/** The hook's exit code, or null when it has not exited by `giveUpAt`. */
async function exitedBy(proc: Bun.Subprocess, giveUpAt: number): Promise<number | null> {
  if (giveUpAt === Infinity) return proc.exited;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, giveUpAt - Date.now()))));
  try {
    return await Promise.race([proc.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function runOne(kind: HookKind, index: number, hook: SpecHook, stdin: string): Promise<void> {
  const args = hook.args?.length ? hook.args : [hook.path];
  const timeoutMs = hook.timeout === undefined ? 0 : Number(hook.timeout) * 1000;
  const what = `error running ${kind} hook #${index} (${hook.path})`;
  const input = stdinFile(stdin);
  const errors = scratchFile("stderr");
  try {
    let proc;
    try {
      proc = Bun.spawn({
        cmd: [hook.path, ...args.slice(1)],
        argv0: args[0],
        env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf("=") >>> 0), e.slice(e.indexOf("=") + 1)])),
        stdin: input,
        stdout: "ignore",
        stderr: errors,
        ...(timeoutMs > 0 ? { timeout: timeoutMs, killSignal: "SIGKILL" as const } : {}),
      });
    } catch (e) {
      throw new BunruncError("system", `${what}: ${(e as Error).message}`);
    }
    const giveUpAt = timeoutMs > 0 ? Date.now() + timeoutMs + HOOK_KILL_WAIT_MS : Infinity;
    try {
      await park(proc.pid, giveUpAt);
    } catch (e) {
      proc.kill("SIGKILL");
      throw new BunruncError("system", `${what}: ${(e as Error).message}`);
    }
    const code = await exitedBy(proc, giveUpAt);
    if (code === 0) return;
    if (code === null) {
      // Killed at its timeout yet still there: left to end on its own, not waited for.
      proc.kill("SIGKILL");
      proc.unref();
    }
    const detail = tail(errors).trim().split("\n").at(-1)?.slice(0, STDERR_SHOWN_MAX);
    const timedOut = code === null || (proc.signalCode === "SIGKILL" && timeoutMs > 0);
    const why = timedOut ? `timed out after ${hook.timeout}s` : proc.signalCode ? `killed by ${proc.signalCode}` : `exit status ${code}`;
    throw new BunruncError("system", `${what}: ${why}${detail ? `, stderr: ${detail}` : ""}`);
  } finally {
    closeSync(input);
    closeSync(errors);
  }
}

/** Runs `hooks` in order; the first failure throws (create-time hooks: create fails and cleans up). */
export async function runHooks(kind: HookKind, hooks: readonly SpecHook[] | undefined, state: object): Promise<void> {
  if (!hooks?.length) return;
  const stdin = JSON.stringify(state);
  for (let i = 0; i < hooks.length; i++) await runOne(kind, i, hooks[i]!, stdin);
}

/**
 * Runs every hook even when some fail, returning the failures as warnings: poststart and
 * poststop failures must not change the lifecycle (runtime-spec "Lifecycle", steps 10 and 13).
 */
export async function runHooksWarn(kind: HookKind, hooks: readonly SpecHook[] | undefined, state: object): Promise<string[]> {
  if (!hooks?.length) return [];
  const stdin = JSON.stringify(state);
  const warnings: string[] = [];
  for (let i = 0; i < hooks.length; i++) {
    try {
      await runOne(kind, i, hooks[i]!, stdin);
    } catch (e) {
      warnings.push((e as Error).message);
    }
  }
  return warnings;
}
