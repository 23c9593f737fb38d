// The container's init process as seen from the host: identity (pid + start time, so a recycled
// pid reads as stopped), signalling through a pidfd, and waiting without blocking Bun's loop.
import { readFileSync } from "node:fs";
import * as ffi from "../ffi.ts";

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot) and the state letter; null when gone. */
export function procStat(pid: number): { startTime: string; state: string; ppid: number } | null {
  if (!(pid > 0)) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  // comm may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, startTime: fields[19]!, ppid: Number(fields[1]) };
}

/** The process that was the container's init is still there (not recycled, not a zombie). */
export function isAlive(pid: number, startTime: string | undefined): boolean {
  const st = procStat(pid);
  if (!st || st.state === "Z" || st.state === "X") return false;
  return startTime === undefined || st.startTime === startTime;
}

/**
 * A pidfd for the container's init, opened first and then checked against the saved start time,
 * so the fd cannot name a recycled pid. null when the process is gone.
 */
export function openInit(pid: number, startTime: string | undefined): number | null {
  let fd: number;
  try {
    fd = ffi.pidfdOpen(pid);
  } catch {
    return null;
  }
  if (fd < 0) return null;
  if (!isAlive(pid, startTime)) {
    ffi.close(fd);
    return null;
  }
  return fd;
}

export function signalInit(pid: number, startTime: string | undefined, sig: number): boolean {
  const fd = openInit(pid, startTime);
  if (fd === null) return false;
  try {
    ffi.pidfdSendSignal(fd, sig);
    return true;
  } finally {
    ffi.close(fd);
  }
}

const POLLIN = 1;
const WAIT_POLL_MS_MIN = 1;
const WAIT_POLL_MS_MAX = 25;

/**
 * Resolves when the pidfd's process exits; 0 ms polls with a backoff keep the event loop free
 * (a blocking waitid on the JS thread would stall it). SIGCHLD (our child or an orphan handed to
 * us as subreaper) cuts the backoff short, so the exit is seen at once rather than up to a
 * backoff step later. Returns the wait status when the process is our child (reaped here), else null.
 */
export async function waitExit(pidfd: number, reap: boolean): Promise<{ status: number; signal?: number } | null> {
  let delay = WAIT_POLL_MS_MIN;
  let wake: (() => void) | undefined;
  const onChild = () => wake?.();
  process.on("SIGCHLD", onChild);
  try {
    while (ffi.pollFd(pidfd, POLLIN, 0) <= 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      delay = Math.min(delay * 2, WAIT_POLL_MS_MAX);
    }
  } finally {
    process.off("SIGCHLD", onChild);
  }
  if (!reap) return null;
  const r = ffi.waitPidfd(pidfd, true);
  return r ? { status: r.status, signal: r.signal } : null;
}

/** Waits until `pid` is gone (not a child of ours), up to `timeoutMs`. */
export async function waitGone(pid: number, startTime: string | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  let delay = WAIT_POLL_MS_MIN;
  while (isAlive(pid, startTime)) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, WAIT_POLL_MS_MAX);
  }
  return true;
}

/**
 * Reaps `pid` if it is our child and has exited (library users create containers from a
 * long-lived process: without this every stopped init would stay a zombie). No-op otherwise.
 */
export function reapIfChild(pid: number): void {
  // Not our child (the usual CLI case: create ran in another process): no pidfd, and no FFI
  // library load for a delete that never needed it.
  if (procStat(pid)?.ppid !== process.pid) return;
  let fd: number;
  try {
    fd = ffi.pidfdOpen(pid);
  } catch {
    return;
  }
  try {
    ffi.waitPidfd(fd, true);
  } catch {
    // ECHILD: not ours (created by another bunrunc process); its parent or init reaps it.
  } finally {
    ffi.close(fd);
  }
}
