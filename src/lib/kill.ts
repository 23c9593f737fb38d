// `kill`: a signal to the container's init through a pidfd checked against the init's start
// time, or with --all to every process of the container's cgroup.
import { loadCgroup } from "./container-cgroup.ts";
import { readState, refresh } from "./container.ts";
import { BunruncError } from "../base/errors.ts";
import { signalInit } from "./init-process.ts";
import { parseSignal } from "./signals.ts";
import { withContainerLock } from "../state/store.ts";
import { containerPids } from "./container-pids.ts";

export interface KillOptions {
  root: string;
  id: string;
  /** Number or name ("9", "KILL", "SIGKILL"); default SIGTERM. */
  signal?: string | number;
  all?: boolean;
}

const SIGTERM = 15;

/**
 * `bunrunc kill`: sends a signal (default SIGTERM; a name or a number) to the container's init, or
 * with `all` to every process in its cgroup.
 * Signals the container, holding its lock (src/state/store.ts).
 */
export function kill(opts: KillOptions): Promise<void> {
  return withContainerLock(opts.root, opts.id, () => killHeld(opts));
}

function killHeld(opts: KillOptions): void {
  const sig = opts.signal === undefined ? SIGTERM : typeof opts.signal === "number" ? opts.signal : parseSignal(opts.signal);
  const saved = readState(opts.root, opts.id);
  const s = refresh(opts.root, saved);
  if (opts.all) {
    const cg = loadCgroup(saved.bunrunc.cgroupVersion, saved.bunrunc.cgroupPaths);
    if (cg.none()) return killEach(containerPids(saved), s.status, sig);
    if (s.status === "stopped" && cg.pids().length === 0) throw new BunruncError("bad-state", "container not running");
    cg.killAll(sig);
    return;
  }
  // containerd matches "container not running" in this error.
  if (s.status === "stopped" || !signalInit(saved.pid, saved.bunrunc.initStartTime, sig)) {
    throw new BunruncError("bad-state", "container not running");
  }
}

/** No cgroup (rootless, nothing delegated): each process found for it, signalled by pid. */
function killEach(pids: number[], status: string, sig: number): void {
  if (status === "stopped" && pids.length === 0) throw new BunruncError("bad-state", "container not running");
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {} // exited meanwhile
  }
}
