// Hooks the resident server gave up waiting for (src/lib/hooks.ts: past their timeout SIGKILL had
// not ended them: a task in D state or frozen in a cgroup v1 freezer). Each is still the server's
// child, a Bun subprocess nobody awaits: Bun reaps it when its event loop turns after the exit, but
// the server's loop sleeps in a blocking poll between calls. So the server polls each one's pidfd
// too and, once it turns readable (exited), lets Bun's loop run until the process is reaped — no
// zombie left behind, and the server, their parent, stays until then (an init that never reaps
// would otherwise inherit them).
import { readFileSync } from "node:fs";
import * as ffi from "../ffi.ts";

/**
 * Given-up hooks whose pidfds are polled at most. Each came from a call that timed out on a hook
 * SIGKILL could not end: a handful is already a host in trouble; 64 keeps the poll set (at most
 * 1024 fds: the listener, PENDING_MAX, PARKED_MAX, WAITING_MAX and these) well inside its bound.
 */
const GIVEN_UP_POLLED_MAX = 64;

/** How long one turn of Bun's loop is given to reap an exited hook before the poll goes on. */
const REAP_TURN_MS = 1;

export class GivenUpHooks {
  private pidfds: number[] = [];

  add(pidfd: number): void {
    // Past the cap the oldest is no longer polled (Bun still reaps it at a later turn of its loop,
    // after any call): the poll's fd set stays bounded (zig/lib.zig bunrunc_poll_many).
    if (this.pidfds.length >= GIVEN_UP_POLLED_MAX) ffi.close(this.pidfds.shift()!);
    this.pidfds.push(pidfd);
  }

  get fds(): readonly number[] {
    return this.pidfds;
  }

  /**
   * `ready[i]`: pidfd i turned readable. Lets Bun reap those that exited and forgets the reaped; an
   * exited one not yet reaped stays (and is polled again: readable, it keeps the loop turning).
   */
  async reap(ready: readonly boolean[]): Promise<void> {
    if (!ready.some(Boolean)) return;
    await Bun.sleep(REAP_TURN_MS);
    this.pidfds = this.pidfds.filter((pidfd, i) => {
      if (!ready[i] || !reaped(pidfd)) return true;
      ffi.close(pidfd);
      return false;
    });
  }
}

/** The pidfd's process is gone from the pid table (reaped): its fdinfo's Pid reads -1. */
function reaped(pidfd: number): boolean {
  try {
    const m = /^Pid:\s*(-?\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${pidfd}`, "latin1"));
    return !m || Number(m[1]) <= 0;
  } catch {
    return true;
  }
}
