// The container's cgroup as the lifecycle needs it: create (and apply linux.resources), add the
// init, list pids, kill everything, destroy. The work is src/cgroups/manager.ts; this keeps the
// lifecycle's small interface in front of it.
import { CgroupManager } from "../cgroups/manager.ts";
import type { Resources } from "../cgroups/types.ts";

export interface LifecycleCgroup {
  version: 1 | 2;
  paths: Record<string, string>;
  create(): void;
  addProcess(pid: number): void;
  /** v1 `tasks` fds for a new process to join by itself (CgroupManager.openJoinFds); null: use addProcess. */
  openJoinFds(): number[] | null;
  pids(): number[];
  killAll(sig: number): void;
  destroy(): void;
  exists(): boolean;
}

export interface CgroupOptions {
  /** linux.resources, applied by create() before any process joins. */
  resources?: unknown;
  /** --systemd-cgroup: cgroupsPath is "slice:prefix:name". */
  systemd?: boolean;
  /** The calling process's /proc/PID/cgroup, read when a relative cgroupsPath is under its cgroups. */
  callerCgroups?: () => string;
  /**
   * Rootless cgroups (src/rootless.ts): a hierarchy we may not write is left out when the config
   * named no cgroupsPath (paths then shrinks), and the device controller is skipped; runc's rules.
   */
  rootless?: boolean;
}

/** cgroupsPath absolute, relative to our own cgroup, or absent (the id, relative) — runc's rules. */
export function cgroupFor(id: string, cgroupsPath: string | undefined, opts: CgroupOptions = {}): LifecycleCgroup {
  const mgr = CgroupManager.forContainer(id, cgroupsPath, { systemd: opts.systemd, callerCgroups: opts.callerCgroups });
  const resources = (opts.resources ?? {}) as Resources;
  return {
    version: mgr.version,
    // The manager's own record: create() may leave hierarchies out of it (rootless).
    paths: mgr.paths,
    create() {
      if (opts.rootless) mgr.createRootless(Boolean(cgroupsPath));
      else mgr.create();
      try {
        mgr.apply(resources, { update: false, rootless: opts.rootless });
      } catch (e) {
        mgr.destroy();
        throw e;
      }
    },
    addProcess: (pid) => mgr.addProcess(pid),
    openJoinFds: () => mgr.openJoinFds(),
    pids: () => mgr.pids(),
    killAll: (sig) => mgr.killAll(sig),
    destroy: () => mgr.destroy(),
    exists: () => mgr.exists(),
  };
}

const SIGKILL = 9;
const REMOVE_TRIES = 40;
const REMOVE_DELAY_MS_MAX = 50;

/**
 * Kills whatever is still in the cgroup and removes its directories, retrying while killed
 * processes finish exiting (rmdir fails with EBUSY until the last one is gone from it): ~1.5 s
 * at most. false when a directory is still there after that.
 */
export async function removeCgroup(cg: Pick<LifecycleCgroup, "pids" | "killAll" | "destroy" | "exists">): Promise<boolean> {
  for (let i = 0; i < REMOVE_TRIES; i++) {
    if (cg.pids().length > 0) cg.killAll(SIGKILL);
    cg.destroy();
    if (!cg.exists()) return true;
    await Bun.sleep(Math.min(2 ** i, REMOVE_DELAY_MS_MAX));
  }
  return false;
}

/** The cgroup of an existing container, from the paths its state recorded. */
export function loadCgroup(version: 1 | 2, paths: Record<string, string>): CgroupManager {
  return new CgroupManager(version, paths);
}
