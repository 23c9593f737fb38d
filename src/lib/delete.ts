// `delete`: stopped -> remove cgroup and state, then poststop hooks (warnings only). created ->
// killed and deleted without --force (runc and crun do; containerd relies on it). running or
// paused -> refused unless --force, which SIGKILLs everything first. creating (a create that
// died half way: its record names the cgroup and, once spawned, the init) -> like created; while
// the process creating it still runs, only --force deletes it.
import { existsSync, rmdirSync, writeFileSync } from "node:fs";
import type { CgroupManager } from "../cgroups/manager.ts";
import { moveNetDevicesOut } from "./netdev.ts";
import { creatorAlive, hookState, isUntrustedState, readState, refresh, removeStateDir, stateDir, type ContainerState } from "./container.ts";
import { BunruncError } from "../base/errors.ts";
import { runHooksWarn } from "./hooks.ts";
import { reapIfChild, signalInit, waitGone } from "./init-process.ts";
import { detachRootfsMount } from "./rootfs-mount.ts";
import { phase } from "../base/timing.ts";
import { withContainerLock } from "../state/store.ts";

export interface DeleteOptions {
  root: string;
  id: string;
  force?: boolean;
  warn?: (message: string) => void;
}

const SIGKILL = 9;
const GONE_TIMEOUT_MS = 10_000;

/**
 * `bunrunc delete`: removes a stopped container (with `force`, kills a running one first): its
 * cgroups, state and poststop hooks. Exported as `delete` too.
 * Deletes the container, holding its lock (src/state/store.ts); the lock file goes with it.
 */
export function del(opts: DeleteOptions): Promise<void> {
  return withContainerLock(opts.root, opts.id, () => deleteHeld(opts));
}

/** del's work; the caller holds the container's lock (checkpoint, run). */
export async function deleteHeld(opts: DeleteOptions): Promise<void> {
  let saved: ContainerState;
  try {
    saved = readState(opts.root, opts.id);
  } catch (e) {
    // --force on a missing container succeeds; a state dir without state.json (create died
    // before its first record, having made nothing else) is removed too. State another user
    // could have written is refused even so.
    if (!opts.force || isUntrustedState(e)) throw e;
    if (existsSync(stateDir(opts.root, opts.id))) removeStateDir(opts.root, opts.id);
    return;
  }
  const s = refresh(opts.root, saved);
  phase("delete.state-read");
  const busy = s.status === "running" || s.status === "paused" || (s.status === "creating" && creatorAlive(saved));
  if (busy && !opts.force) {
    throw new BunruncError("bad-state", `cannot delete container ${opts.id} that is not stopped: ${s.status}`);
  }
  if (s.status !== "stopped") {
    // While the init holds the network namespace: a virtual device would die with it.
    if (saved.bunrunc.netDevices) moveNetDevicesOut(saved.pid, saved.bunrunc.netDevices, (m) => opts.warn?.(m));
    // A creating init may have forked (a joined pid namespace) before its child was recorded.
    if (s.status === "paused" || s.status === "creating" || !saved.bunrunc.ownPidNs) cgroupOf(saved).killAll(SIGKILL);
    signalInit(saved.pid, saved.bunrunc.initStartTime, SIGKILL);
    if (s.status === "paused") thaw(saved);
    if (!(await waitGone(saved.pid, saved.bunrunc.initStartTime, GONE_TIMEOUT_MS))) {
      throw new BunruncError("system", `delete: container ${opts.id}: pid ${saved.pid} did not exit after SIGKILL`);
    }
  }
  reapIfChild(saved.pid);
  phase("delete.killed+reaped");
  // Before the state goes: a failure here leaves the container to delete again.
  const m = saved.bunrunc.rootfsMount;
  if (m) {
    try {
      detachRootfsMount(m.path, m.id);
    } catch (e) {
      throw new BunruncError("system", `delete: container ${opts.id}: ${(e as Error).message}`);
    }
  }
  // The systemd driver: the scope goes through systemd (which removes its cgroup); a scope that
  // emptied when the init died may be gone already.
  // A unit of that name with another InvocationID is someone else's, started since ours went: it
  // and its cgroup (the same directories ours had) are left alone, and the caller told so.
  const ownScope = !saved.bunrunc.systemdUnit || stopScope(opts.id, saved);
  if (saved.bunrunc.systemdUnit) phase("delete.scope-stopped");
  if (!ownScope) opts.warn?.(`delete: container ${opts.id}: systemd unit ${saved.bunrunc.systemdUnit} is no longer the one created for it (another InvocationID): the unit and its cgroup are left alone`);
  // Processes outside the init's pid namespace (or still dying) keep the cgroup busy: the careful
  // path kills them and retries. The state stays while a directory does: it is all that names it.
  // In its own pid namespace with its init gone, every process of the container died with the
  // init (the kernel kills and reaps them before the init's exit shows): what still holds the
  // cgroup was put there from outside (a container made in the same cgroup) and is not ours.
  const cgroupDir = Object.values(saved.bunrunc.cgroupPaths)[0];
  if (ownScope && !removeIfEmpty(saved.bunrunc.cgroupPaths)) {
    const notOurs = saved.bunrunc.ownPidNs && (s.status === "stopped" || s.status === "created" || s.status === "running");
    if (notOurs) {
      // Retried without killing: a task of ours that just died can hold the directory a moment.
      const cg = cgroupOf(saved);
      if (!(await removeCgroupKillingNothing(cg))) {
        const n = cg.pids().length;
        if (n > 0) throw new BunruncError("bad-state", `delete: container ${opts.id}: its cgroup ${cgroupDir} holds ${n} process(es) outside its pid namespace (not killed)`);
        throw new BunruncError("system", `delete: container ${opts.id}: its cgroup ${cgroupDir} could not be removed`);
      }
    } else if (!(await removeCgroup(cgroupOf(saved)))) {
      throw new BunruncError("system", `delete: container ${opts.id}: its cgroup ${cgroupDir} still has processes after SIGKILL`);
    }
  }
  phase("delete.cgroup-removed");
  removeStateDir(opts.root, opts.id);
  phase("delete.state-removed");
  for (const w of await runHooksWarn("poststop", saved.bunrunc.hooks?.poststop, hookState({ ...saved, pid: 0 }, "stopped"))) opts.warn?.(w);
}

/** The cgroup manager and its controller modules (~0.2 ms to load) only for a delete that needs more than rmdir. */
function cgroupOf(saved: ContainerState): CgroupManager {
  const { loadCgroup } = require("./container-cgroup.ts") as typeof import("./container-cgroup.ts");
  return loadCgroup(saved.bunrunc.cgroupVersion, saved.bunrunc.cgroupPaths);
}

/** Stops the container's scope; false when the unit of that name is another's now (another InvocationID). */
function stopScope(id: string, saved: ContainerState): boolean {
  const { loadSystemdCgroup } = require("./container-cgroup.ts") as typeof import("./container-cgroup.ts");
  const b = saved.bunrunc;
  try {
    return loadSystemdCgroup(b.systemdUnit!, b.cgroupVersion, b.cgroupPaths, b.systemdInvocationId).stop();
  } catch (e) {
    throw new BunruncError("system", `delete: container ${id}: ${(e as Error).message}`);
  }
}

async function removeCgroupKillingNothing(cg: CgroupManager): Promise<boolean> {
  const { removeCgroup: remove } = require("./container-cgroup.ts") as typeof import("./container-cgroup.ts");
  return remove({ pids: () => [], killAll: () => {}, destroy: () => cg.destroy(), exists: () => cg.exists() });
}

async function removeCgroup(cg: CgroupManager): Promise<boolean> {
  const { removeCgroup: remove } = require("./container-cgroup.ts") as typeof import("./container-cgroup.ts");
  return remove(cg);
}

/**
 * The common case first: once the init is gone its cgroup directories are empty leaves, and one
 * rmdir each removes them (~10 syscalls on a v1 host instead of reading every cgroup.procs and
 * listing every directory twice). rmdir refuses (EBUSY) a directory that still holds a process or
 * a child cgroup; false sends those to the careful path below, which finds the same directories.
 */
function removeIfEmpty(paths: Record<string, string>): boolean {
  let removed = true;
  for (const d of new Set(Object.values(paths))) {
    try {
      rmdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") removed = false;
    }
  }
  return removed;
}

function thaw(s: ContainerState): void {
  const b = s.bunrunc;
  try {
    // A rootless container may have no cgroup at all (paths empty).
    if (b.cgroupVersion === 2 && b.cgroupPaths[""]) writeFileSync(`${b.cgroupPaths[""]}/cgroup.freeze`, "0");
    else if (b.cgroupVersion === 1 && b.cgroupPaths.freezer) writeFileSync(`${b.cgroupPaths.freezer}/freezer.state`, "THAWED");
  } catch {}
}
