// Whom a verb runs for. In the CLI and in a Bun script that is this process. In the resident
// server (src/server/serve.ts) it is a front process (zig/front.zig) that asked over a socket:
// then the container's processes must still be cloned by the front, so they are the front's
// children as they would be runc's (a subreaper caller — containerd's shim, conmon — reaps
// them), and a foreground wait happens there too. The lib asks this module instead of the FFI.
import * as ffi from "../ffi.ts";

export interface SpawnInCaller extends ffi.SpawnRequest {
  /** A foreground run/exec: the process (or its grandchild after a pid-namespace fork) must come back to the spawner as subreaper. */
  subreaper?: boolean;
  /** A foreground run/exec: signals for the process are held from before it exists. */
  holdSignals?: boolean;
}

export interface Caller {
  /** The calling process (LISTEN_PID is compared with it). */
  pid: number;
  /** Its /proc/PID/cgroup, read while it was proven alive (the server's callers); else read when needed. */
  cgroups?: string;
  /** Clones the container's init in the calling process. */
  spawn(req: SpawnInCaller): ffi.Spawned;
  /** Returns once a process spawn() made has exited, reaping it when it is this process's child. */
  waitExited(pidfd: number): void;
  /**
   * Set when the caller is a front: it waits for `pid` itself (forwarding signals) and exits with
   * its status, or calls again (`thenCallBack`) so the verb can finish (run deletes the container).
   */
  waitInCaller?(pid: number, thenCallBack: boolean): void;
  /** Set in the server: what --debug's first line says about who ran the call. */
  servedBy?: string;
  /** A front's second call, after the wait: the exit code the process gave. */
  resumedWith?: number;
}

const POLLIN = 1;
/** A killed process is gone in microseconds; one stuck in the kernel is not waited for forever. */
const EXIT_WAIT_MS = 10_000;

/** Waits (bounded) for a process that is not ours to reap to exit. */
export function waitUnreaped(pidfd: number): void {
  try {
    ffi.pollFd(pidfd, POLLIN, EXIT_WAIT_MS);
  } catch {}
}

const thisProcess: Caller = {
  pid: process.pid,
  spawn: (req) => {
    if (req.subreaper) ffi.setChildSubreaper();
    return ffi.spawn(req);
  },
  waitExited: (pidfd) => {
    try {
      ffi.waitPidfd(pidfd, false);
    } catch {
      // Not our child (a forked process before its reparenting): its reaper collects it.
      waitUnreaped(pidfd);
    }
  },
};

let current: Caller = thisProcess;

export function caller(): Caller {
  return current;
}

/** Runs fn with `c` as the caller; the server handles one call at a time. */
export async function withCaller<T>(c: Caller, fn: () => Promise<T>): Promise<T> {
  const before = current;
  current = c;
  try {
    return await fn();
  } finally {
    current = before;
  }
}
