// The container's cgroup as the lifecycle needs it: create (and apply linux.resources), add the
// init, list pids, kill everything, destroy. The work is src/cgroups/manager.ts; this keeps the
// lifecycle's small interface in front of it.
import { CgroupManager } from "../cgroups/manager.ts";
import * as ffi from "../ffi.ts";
import type { SpawnRequest, Spawner } from "./spawner.ts";
import type { Resources } from "../config/types.ts";
import type { SystemdCgroup } from "../cgroups/systemd/driver.ts";
import { BunruncError } from "../base/errors.ts";
import { clip } from "../base/quote.ts";

export interface LifecycleCgroup {
  version: 1 | 2;
  paths: Record<string, string>;
  create(): void;
  addProcess(pid: number): void;
  /** v1 `tasks` fds for a new process to join by itself (CgroupManager.openJoinFds); null: use addProcess. */
  openJoinFds(): number[] | null;
  /** v2: the cgroup directory's fd for CLONE_INTO_CGROUP (CgroupManager.openDirFd); null: not v2. */
  openDirFd(): number | null;
  pids(): number[];
  killAll(sig: number): void;
  destroy(): void;
  exists(): boolean;
  /** --systemd-cgroup: the scope unit systemd keeps the cgroup as (recorded in the state). */
  systemdUnit?: string;
  /** --systemd-cgroup: the InvocationID of the scope once started (recorded in the state: delete stops only that one). */
  systemdInvocationId?: () => string | undefined;
}

export interface CgroupOptions {
  /** linux.resources, applied by create() before any process joins. */
  resources?: Resources;
  /** --systemd-cgroup: cgroupsPath is "slice:prefix:name". */
  systemd?: boolean;
  /** The calling process's /proc/PID/cgroup, read when a relative cgroupsPath is under its cgroups. */
  callerCgroups?: () => string;
  /**
   * Rootless cgroups (src/base/rootless.ts): a hierarchy we may not write is left out when the config
   * named no cgroupsPath (paths then shrinks), and the device controller is skipped; runc's rules.
   */
  rootless?: boolean;
  /** Warnings (device rules systemd cannot express). */
  warn?: (message: string) => void;
  /**
   * With systemd: false = only the path systemd would give the scope, made as cgroupfs, no unit
   * (restore: CRIU restores the tree into an existing cgroup; a scope around it is not done yet).
   */
  scope?: boolean;
}

/** cgroupsPath absolute, relative to our own cgroup, or absent (the id, relative) — runc's rules. */
export function cgroupFor(id: string, cgroupsPath: string | undefined, opts: CgroupOptions = {}): LifecycleCgroup {
  if (opts.systemd && opts.scope !== false) return systemdCgroupFor(id, cgroupsPath, opts);
  const mgr = CgroupManager.forContainer(id, cgroupsPath, { systemd: opts.systemd, callerCgroups: opts.callerCgroups });
  const resources = opts.resources ?? {};
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
    openDirFd: () => mgr.openDirFd(),
    pids: () => mgr.pids(),
    killAll: (sig) => mgr.killAll(sig),
    destroy: () => mgr.destroy(),
    exists: () => mgr.exists(),
  };
}

/**
 * runc 1.2's refusal: a cgroup that already holds processes is another container's (or anyone's).
 * Sharing it would let this container's delete, which kills what is left in its cgroup, kill
 * them. Checked before anything is made, so a refusal leaves nothing to undo.
 */
export function refuseBusyCgroup(cg: LifecycleCgroup): void {
  if (!cg.exists()) return;
  const n = cg.pids().length;
  if (n === 0) return;
  const dir = Object.values(cg.paths)[0] ?? "";
  throw new BunruncError("bad-state", `create: linux.cgroupsPath: container's cgroup is not empty: ${n} process(es) found in ${clip(dir)}`);
}

/**
 * Spawns a container's init already in `cg` where that needs no cgroup.procs write (which takes
 * the kernel's global threadgroup lock for write: an RCU grace period, 5-15 ms per burst): v1,
 * the child writes "0" to each `tasks` file itself; v2, clone3 starts it there
 * (CLONE_INTO_CGROUP). `joined` false: the caller writes its pid (the Setup stop) — where no fd
 * could be opened, or the kernel refused CLONE_INTO_CGROUP. The fds opened go to `fds`, the
 * caller's to close.
 */
export function spawnInCgroup(spawner: Spawner, request: SpawnRequest, cg: LifecycleCgroup, fds: number[]): { child: ffi.Spawned; joined: boolean } {
  const joinFds = cg.openJoinFds();
  if (joinFds) {
    fds.push(...joinFds);
    return { child: spawner.spawn({ ...request, cgroupJoinFds: joinFds }), joined: true };
  }
  const intoFd = cg.openDirFd();
  if (intoFd === null) return { child: spawner.spawn(request), joined: false };
  fds.push(intoFd);
  try {
    return { child: spawner.spawn({ ...request, cgroupFd: intoFd }), joined: true };
  } catch (e) {
    // A kernel before 5.7, or a cgroup clone3 may not place a process in: nothing was started.
    if (!(e instanceof ffi.FfiError)) throw e;
    return { child: spawner.spawn(request), joined: false };
  }
}

/**
 * --systemd-cgroup: nothing exists before the init does (systemd makes the scope around its
 * pid, at the init's first stop: addProcess); create() only computes the unit's properties, so
 * bad limits fail before anything is made. Loaded only for this driver.
 */
function systemdCgroupFor(id: string, cgroupsPath: string | undefined, opts: CgroupOptions): LifecycleCgroup {
  const { SystemdCgroup: Driver } = require("../cgroups/systemd/driver.ts") as typeof import("../cgroups/systemd/driver.ts");
  const sd: SystemdCgroup = Driver.forContainer(id, cgroupsPath, { callerCgroups: opts.callerCgroups });
  const mgr = sd.mgr;
  const resources = (opts.resources ?? {}) as Resources;
  let props: ReturnType<SystemdCgroup["properties"]> | undefined;
  // Until systemd has made the unit for us, its name and cgroup may be another container's:
  // nothing of them is listed, signalled or removed.
  return {
    version: mgr.version,
    paths: mgr.paths,
    systemdUnit: sd.unit,
    systemdInvocationId: () => sd.invocationId,
    create() {
      props = sd.properties(resources, opts.warn);
    },
    addProcess: (pid) => sd.start(pid, id, resources, props ?? sd.properties(resources, opts.warn)),
    openJoinFds: () => null,
    openDirFd: () => null,
    pids: () => (sd.owned ? mgr.pids() : []),
    killAll: (sig) => {
      if (sd.owned) mgr.killAll(sig);
    },
    destroy() {
      if (!sd.owned) return;
      // A unit of that name another started since is left alone, and its cgroup with it.
      if (sd.stop()) mgr.destroy();
    },
    exists: () => sd.owned && mgr.exists(),
  };
}

/** An existing container's systemd scope (its state names the unit), for update and delete. */
export function loadSystemdCgroup(unit: string, version: 1 | 2, paths: Record<string, string>, invocationId?: string): SystemdCgroup {
  const { SystemdCgroup: Driver } = require("../cgroups/systemd/driver.ts") as typeof import("../cgroups/systemd/driver.ts");
  return Driver.load(unit, new CgroupManager(version, paths), invocationId);
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
