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
}

export interface CgroupOptions {
  /** linux.resources, applied by create() before any process joins. */
  resources?: unknown;
  /** --systemd-cgroup: cgroupsPath is "slice:prefix:name". */
  systemd?: boolean;
  /** The calling process's /proc/PID/cgroup, read when a relative cgroupsPath is under its cgroups. */
  callerCgroups?: () => string;
}

/** cgroupsPath absolute, relative to our own cgroup, or absent (the id, relative) — runc's rules. */
export function cgroupFor(id: string, cgroupsPath: string | undefined, opts: CgroupOptions = {}): LifecycleCgroup {
  const mgr = CgroupManager.forContainer(id, cgroupsPath, { systemd: opts.systemd, callerCgroups: opts.callerCgroups });
  const resources = (opts.resources ?? {}) as Resources;
  return {
    version: mgr.version,
    paths: mgr.paths,
    create() {
      mgr.create();
      try {
        mgr.apply(resources);
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
  };
}

/** The cgroup of an existing container, from the paths its state recorded. */
export function loadCgroup(version: 1 | 2, paths: Record<string, string>): CgroupManager {
  return new CgroupManager(version, paths);
}
