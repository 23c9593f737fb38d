// `start`: one byte into the exec fifo releases the init (it runs the startContainer hooks and
// execs the process); the fifo is removed, so the status reads running; then poststart hooks.
import { closeSync, constants, fstatSync, openSync, readlinkSync, unlinkSync, writeSync } from "node:fs";
import { fifoPath, hookState, readState, refresh } from "./container.ts";
import { BunruncError } from "../base/errors.ts";
import { runHooksWarn } from "./hooks.ts";
import { phase } from "../base/timing.ts";
import { clip } from "../base/quote.ts";
import { withContainerLock } from "../state/store.ts";

export interface StartOptions {
  root: string;
  id: string;
  warn?: (message: string) => void;
}

const WRONG_STATE: Readonly<Record<string, string>> = {
  // Its init has not been walked through its setup (or its creator died half way).
  creating: "cannot start a container that is being created",
  stopped: "cannot start a container that has stopped",
  running: "cannot start an already running container",
  paused: "cannot start a container in the paused state",
};

/**
 * `bunrunc start`: runs the created container's process (its startContainer hooks, then exec);
 * resolves once it runs.
 * Starts the container, holding its lock (src/state/store.ts).
 */
export function start(opts: StartOptions): Promise<void> {
  return withContainerLock(opts.root, opts.id, () => startHeld(opts));
}

/** start's work; the caller holds the container's lock (run, between its create and its wait). */
export async function startHeld(opts: StartOptions): Promise<void> {
  const saved = readState(opts.root, opts.id);
  const s = refresh(opts.root, saved);
  phase("start.state-read");
  const wrong = WRONG_STATE[s.status];
  if (wrong) throw new BunruncError("bad-state", wrong);
  const fifo = fifoPath(opts.root, opts.id);
  let fd: number;
  try {
    // Never through a link, and only into a fifo: a file planted at its name is not written.
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENXIO: nobody holds the read end any more, the init is gone.
    if (code === "ENXIO") throw new BunruncError("bad-state", WRONG_STATE.stopped!);
    if (code === "ELOOP") throw new BunruncError("system", `start: ${clip(fifo)}: is a symlink, not the container's fifo`);
    throw new BunruncError("system", `start: open ${clip(fifo)}: ${(e as Error).message}`);
  }
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    throw new BunruncError("system", `start: ${clip(fifo)}: is not a fifo`);
  }
  try {
    writeSync(fd, new Uint8Array([0]));
  } finally {
    closeSync(fd);
  }
  phase("start.fifo-written");
  // Gone, the fifo says running (liveStatus): state.json keeps "created", as no reader looks at a
  // saved status other than "creating", and the front's start (zig/front_verbs.zig) writes none.
  unlinkSync(fifo);
  const poststart = saved.bunrunc.hooks?.poststart;
  // Without startContainer hooks the init execs as soon as it reads the byte: a short bound.
  if (poststart?.length) await waitExecuted(saved.pid, saved.bunrunc.hooks?.startContainer?.length ? EXEC_WAIT_MS_MAX : EXEC_WAIT_MS_PLAIN);
  for (const w of await runHooksWarn("poststart", poststart, hookState(saved, "running"))) opts.warn?.(w);
}

/**
 * The spec runs poststart hooks after the user's process is executed. The fifo's byte only
 * releases the init, which may still run startContainer hooks before its exec: wait until
 * /proc/PID/exe no longer names the sealed bunrunc-init memfd (or the process is gone, or
 * unreadable), bounded (startContainer hooks have timeouts of their own; a start that would wait
 * for them is never served: src/server/before-begin.ts).
 */
async function waitExecuted(pid: number, boundMs: number): Promise<void> {
  const deadline = performance.now() + boundMs;
  while (performance.now() < deadline) {
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return;
    }
    if (!exe.includes("memfd:bunrunc-init")) return;
    await Bun.sleep(1);
  }
}

const EXEC_WAIT_MS_MAX = 30_000;
const EXEC_WAIT_MS_PLAIN = 1_000;
