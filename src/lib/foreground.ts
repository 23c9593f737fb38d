// Waiting for a container process in the foreground (`run`, `exec` without --detach): the
// signals a user or supervisor sends bunrunc go on to the process, the terminal (if bunrunc
// holds the pty master) is relayed, and the exit status comes back as runc reports it
// (the process's own code, 128 + signal when a signal killed it).
// Signals are caught from before the process exists: one arriving while it starts is held and
// delivered once there is a pidfd, instead of killing bunrunc (and orphaning the container).
// As a subreaper, bunrunc also reaps the process's orphans (containers without their own pid
// namespace hand them to us), telling them from Bun's own children by their session.
import { readdirSync, readFileSync } from "node:fs";
import * as ffi from "../ffi.ts";
import { waitExit } from "./init-process.ts";
import { SIGNALS } from "./signals.ts";
import { relayTerminal, type TerminalRelay } from "./tty.ts";

/** What bunrunc passes on; SIGWINCH resizes the pty instead when bunrunc holds its master. */
export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;
type Forwarded = (typeof FORWARDED_SIGNALS)[number];

const REAP_INTERVAL_MS = 100;

export interface Foreground {
  /**
   * Relays (master: the pty, closed here) and forwards to the process until it exits; resolves
   * with its exit code. pidfd is closed here; the process must be our child (we reap it).
   */
  wait(o: { pidfd: number; pid: number; master?: number }): Promise<number>;
  /** Stops catching signals (the start failed; nothing to wait for). */
  release(): void;
}

/** Starts catching the forwarded signals now; call before the process is spawned. */
export function catchSignals(): Foreground {
  const held: Forwarded[] = [];
  let pidfd: number | undefined;
  let relay: TerminalRelay | undefined;
  const deliver = (name: Forwarded) => {
    if (name === "SIGWINCH" && relay) return relay.resize();
    try {
      ffi.pidfdSendSignal(pidfd!, SIGNALS[name.slice(3)]!);
    } catch {}
  };
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const handler = () => (pidfd === undefined ? held.push(name) : deliver(name));
    process.on(name, handler);
    return [name, handler] as const;
  });
  const release = () => {
    for (const [name, handler] of handlers) process.off(name, handler);
  };
  return {
    release,
    async wait(o) {
      if (o.master !== undefined) relay = relayTerminal(o.master);
      pidfd = o.pidfd;
      for (const name of held.splice(0)) deliver(name);
      const reaper = setInterval(() => reapOrphans(o.pid), REAP_INTERVAL_MS);
      try {
        const r = await waitExit(o.pidfd, true);
        return r === null ? 0 : r.signal ? 128 + r.signal : r.status;
      } finally {
        clearInterval(reaper);
        reapOrphans(o.pid);
        release();
        ffi.close(o.pidfd);
        await relay?.finish();
      }
    },
  };
}

/**
 * Reaps our zombie children in the session the process leads (it called setsid, so its sid is
 * its pid): its orphans. The process itself is left to waitExit; Bun's children (other sessions)
 * are never touched.
 */
export function reapOrphans(processPid: number): void {
  for (const pid of childPids()) {
    if (pid === processPid) continue;
    let fields: string[];
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    } catch {
      continue;
    }
    // fields: state, ppid, pgrp, session, ...
    if (fields[0] !== "Z" || Number(fields[3]) !== processPid) continue;
    let fd: number;
    try {
      fd = ffi.pidfdOpen(pid);
    } catch {
      continue;
    }
    try {
      ffi.waitPidfd(fd, true);
    } catch {
    } finally {
      ffi.close(fd);
    }
  }
}

function childPids(): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const text = readFileSync(`/proc/self/task/${tid}/children`, "latin1").trim();
      if (text) for (const p of text.split(" ")) out.push(Number(p));
    }
  } catch {}
  return out;
}
