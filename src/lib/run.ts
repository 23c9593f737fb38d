// `run`: create + start, then (unless --detach) wait for the container process without blocking
// Bun's event loop, forwarding signals to it, and exit with its status (128+signal when killed).
// With process.terminal and no --console-socket, bunrunc holds the pty master and relays it
// (src/lib/tty.ts). The container is deleted afterwards unless --keep. A spawner whose caller
// waits itself (the resident server's front) gets a Handback: the wait, then the delete.
import * as ffi from "../ffi.ts";
import { createHeld, type CreateOptions } from "./create.ts";
import { del, deleteHeld, type DeleteOptions } from "./delete.ts";
import { catchSignals, type Foreground } from "./foreground.ts";

import { thisProcess, type Handback, type Spawner } from "./spawner.ts";
import { startHeld } from "./start.ts";
import { phase } from "../base/timing.ts";
import { LockBusy, withContainerLock } from "../state/store.ts";

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
  /** Do not become a child subreaper (orphans of the container reparent to the host init). */
  noSubreaper?: boolean;
}

/** Returns the exit code `bunrunc run` exits with (0 when detached). */
export async function run(opts: RunOptions): Promise<number> {
  return (await runFor({ ...opts, spawner: thisProcess })) as number;
}

/** run for `opts.spawner`: the exit code, or a Handback when the spawner's caller waits itself. */
export async function runFor(opts: RunOptions): Promise<number | Handback> {
  const spawner = opts.spawner ?? thisProcess;
  const fg = opts.detach || spawner.waitsInCaller ? undefined : catchSignals();
  try {
    return await runCaught(opts, spawner, fg);
  } catch (e) {
    fg?.release();
    throw e;
  }
}

interface Started {
  pidfd: number;
  pid: number;
  /** The pty master when bunrunc relays the container's terminal itself. */
  master?: number;
}

/**
 * create and start under one hold of the container's lock, so nobody acts on it in between. The
 * wait that follows holds no lock: kill and delete from other processes must get through.
 */
async function createAndStart(opts: RunOptions, spawner: Spawner): Promise<Started> {
  // A foreground terminal comes back on our own socketpair; create uses it only if process.terminal.
  const pair = !opts.detach && !opts.consoleSocket && !spawner.waitsInCaller ? ffi.socketpair() : undefined;
  let pidfd: number;
  let pid: number;
  let master: number | undefined;
  try {
    const foreground = opts.detach ? undefined : { subreaper: !opts.noSubreaper };
    ({ pidfd, state: { pid } } = await createHeld({ ...opts, spawner, consoleFd: pair?.[1], foreground }));
    // The init sent the master (if any) before it reported created: it is there or never comes.
    if (pair) master = receiveNow(pair[0]);
  } finally {
    if (pair) pair.forEach((fd) => ffi.close(fd));
  }
  try {
    await startHeld({ root: opts.root, id: opts.id, warn: opts.warn });
  } catch (e) {
    ffi.close(pidfd);
    if (master !== undefined) ffi.close(master);
    await deleteHeld({ root: opts.root, id: opts.id, force: true }).catch(() => {});
    throw e;
  }
  return { pidfd, pid, master };
}

async function runCaught(opts: RunOptions, spawner: Spawner, fg: Foreground | undefined): Promise<number | Handback> {
  const { pidfd, pid, master } = await withContainerLock(opts.root, opts.id, () => createAndStart(opts, spawner));
  if (opts.detach) {
    ffi.close(pidfd);
    return 0;
  }
  phase("run.started");
  if (spawner.waitsInCaller) {
    ffi.close(pidfd);
    return { waitFor: pid, finish: (code) => finishRun(opts, code, deleteAfterHandback) };
  }
  const code = await fg!.wait({ pidfd, pid, master });
  phase("run.exited");
  return finishRun(opts, code, del);
}

/** After the container process exited with `code`: the container goes unless --keep. */
async function finishRun(opts: RunOptions, code: number, remove: typeof del): Promise<number> {
  if (!opts.keep) await remove({ root: opts.root, id: opts.id, force: true, warn: opts.warn });
  return code;
}

/**
 * The delete after a handed-back wait, in the resident server, which never waits for a lock
 * (LockBusy instead) and has no front left to hand the call back to: under the lock when it is
 * free; else run's own, as before locking moved into the library (the holder removes the lock
 * file once it sees the container gone).
 */
async function deleteAfterHandback(opts: DeleteOptions): Promise<void> {
  try {
    await del(opts);
  } catch (e) {
    if (!(e instanceof LockBusy)) throw e;
    await deleteHeld(opts);
  }
}

function receiveNow(sock: number): number | undefined {
  try {
    return ffi.recvFd(sock, 0).fd;
  } catch {
    return undefined;
  }
}
