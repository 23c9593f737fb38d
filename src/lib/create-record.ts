// The state records create writes: "creating" before it makes anything (the cgroup it will make,
// its creator), then the init's pid and start time once the init is parked at its first stop.
import type { Spec } from "../config/types.ts";
import type { LifecycleCgroup } from "./container-cgroup.ts";
import { writeState, type ContainerState } from "./container.ts";
import { rfc3339Nano } from "../base/rfc3339.ts";
import { procStat } from "./init-process.ts";
import type { CreateOptions } from "./create.ts";

/** The record create writes before it makes anything: the cgroup it will make, no init yet. */
export function creatingRecord(opts: CreateOptions, spec: Spec, rootfs: string, cg: LifecycleCgroup): ContainerState {
  const state: ContainerState = {
    ociVersion: spec.ociVersion,
    id: opts.id,
    pid: 0,
    status: "creating",
    bundle: opts.bundle,
    rootfs,
    created: rfc3339Nano(),
    owner: "",
    bunrunc: { initStartTime: "", cgroupPaths: cg.paths, cgroupVersion: cg.version, hooks: spec.hooks, ownPidNs: false, creator: creatorRecord() },
  };
  if (spec.annotations && Object.keys(spec.annotations).length) state.annotations = spec.annotations;
  return state;
}

let self: { pid: number; startTime: string } | undefined;

/** This process as a record's creator (a library user or the server creates many containers). */
function creatorRecord(): { pid: number; startTime: string } {
  self ??= { pid: process.pid, startTime: procStat(process.pid)?.startTime ?? "" };
  return self;
}

/**
 * The init's pid and start time into the record (the start time tells a recycled pid apart), at
 * its first stop (and again when it forks): it cannot get past that stop before we answer, and
 * if we die before, the stop ends it (EOF). Read at once after clone3, /proc/PID/stat waits for
 * the child's exec (~0.3 ms); parked at its stop, it answers in microseconds.
 */
export function recordInit(root: string, state: ContainerState, pid: number): void {
  state.pid = pid;
  // Gone already (it failed at once): "" never matches, so nothing will signal that pid.
  state.bunrunc.initStartTime = procStat(pid)?.startTime ?? "";
  writeState(root, state);
}
