// `create`: config -> plan -> state dir + a "creating" record -> exec fifo -> cgroup -> init
// spawned (and recorded) and walked through its WaitParent stops -> state.json "created" + pid
// file -> one byte telling the init it is recorded. The init stays blocked on the exec fifo until
// `start`. Any failure kills the init and removes what create made; the error names the step.
// A create killed half way leaves a record naming everything it made (the cgroup dirs, then the
// init's pid and start time) for `delete`; its init, never told it is recorded, exits by itself.
import { closeSync, constants, openSync } from "node:fs";
import { resolve } from "node:path";
import { compilePlan, CompileError, hasCreateHooks, WaitTag, type Plan } from "../plan/compile.ts";
import { handOverListener, type ListenerTarget } from "../seccomp/listener.ts";
import { compileSeccompIfAny } from "../seccomp/container.ts";
import { CLONE } from "../plan/linux.ts";
import type { Spec } from "../config/types.ts";
import { kernelMemoryWarning } from "../cgroups/types.ts";
import { cgroupFor, refuseBusyCgroup, removeCgroup, spawnInCgroup, type LifecycleCgroup } from "./container-cgroup.ts";
import { loadSpec, rootfsOf } from "./bundle.ts";
import { fifoPath, hookState, makeStateDir, removeStateDir, writeState, type ContainerState } from "./container.ts";
import { BunruncError } from "../base/errors.ts";
import { runHooks } from "./hooks.ts";
import { connectConsole, makeFifo } from "./create-io.ts";
import { writeUserNsMaps } from "./userns-maps.ts";
import { makeIdmappedMounts } from "./idmap.ts";
import { moveNetDevicesIn, moveNetDevicesOut } from "./netdev.ts";
import * as ffi from "../ffi.ts";
import { procStat } from "./init-process.ts";
import { creatingRecord, recordInit } from "./create-record.ts";
import { CREATE_VOICE, spawnInit, unknownTag, walkInit, type InitChild } from "./init-handshake.ts";
import { thisProcess, type Spawner } from "./spawner.ts";
import { detachRootfsMount, mountIdsAt, newRootfsMount, realRootfs } from "./rootfs-mount.ts";
import { resourcesForState } from "./resources-record.ts";
import { recordFastVerbs } from "./fast-verbs.ts";
import { phase } from "../base/timing.ts";
import { withContainerLock } from "../state/store.ts";
import { writePidFile } from "../state/pid-file.ts";
import { rootlessCgroups, unprivileged } from "../base/rootless.ts";
import { checkRootlessConfig } from "./rootless-config.ts";

export interface CreateOptions {
  id: string;
  bundle: string;
  /** State root (--root). */
  root: string;
  pidFile?: string;
  consoleSocket?: string;
  /**
   * Instead of consoleSocket: an already connected socket (ours; not closed here) the pty master
   * is sent on — `run` in the foreground relays the terminal itself (src/lib/tty.ts).
   */
  consoleFd?: number;
  /** Extra fds from 3 on passed to the container (--preserve-fds). */
  preserveFds?: number;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** --systemd-cgroup: linux.cgroupsPath is systemd's "slice:prefix:name". */
  systemdCgroup?: boolean;
  /** --rootless: cgroup permission errors tolerated as runc does (default: src/base/rootless.ts's auto rule). */
  rootlessCgroups?: boolean;
  /**
   * `run` in the foreground: the spawner becomes a subreaper (unless noSubreaper) and holds the
   * forwarded signals from before the clone (only a front does; this process catches them itself).
   */
  foreground?: { subreaper: boolean };
  /** Warnings (unknown capabilities, missing seccomp support) go here; the CLI logs them. */
  warn?: (message: string) => void;
  /** Debug lines (seccomp: syscall names no table knows, skipped as runc does); the CLI logs them with --debug. */
  debug?: (message: string) => void;
  /** Who clones the init (src/lib/spawner.ts); this process by default. */
  spawner?: Spawner;
}

/** A created container whose init is still our child (`run` waits on it). */
export interface Created {
  state: ContainerState;
  /** pidfd of the container process; the caller closes it. */
  pidfd: number;
}

const SYNC_TIMEOUT_MS = 60_000;
const FIRST_EXTRA_FD = 3;

/**
 * `bunrunc create`: sets the container up from its bundle and leaves its init waiting for `start`;
 * resolves with its state (status "created").
 * Creates the container, holding its lock (src/state/store.ts).
 */
export async function create(opts: CreateOptions): Promise<ContainerState> {
  const c = await withContainerLock(opts.root, opts.id, () => createHeld(opts));
  ffi.close(c.pidfd);
  return c.state;
}

/** create's work; the caller holds the container's lock (run, until its start is done). */
export async function createHeld(opts: CreateOptions): Promise<Created> {
  const bundle = resolve(opts.bundle);
  const spec = loadSpec(bundle);
  const rootfs = rootfsOf(bundle, spec);
  if (unprivileged()) checkRootlessConfig(spec, bundle);
  phase("create.config");
  makeStateDir(opts.root, opts.id);
  const job: Job = { undo: [], fds: [] };
  try {
    return await createIn({ ...opts, bundle }, spec, rootfs, job);
  } catch (e) {
    await undoAll(opts.root, opts.id, job);
    throw e instanceof BunruncError ? e : new BunruncError("system", `create: ${(e as Error).message}`);
  } finally {
    for (const fd of job.fds) closeSync(fd);
  }
}

/** What a create in progress has made: how to undo it, fds to close, the record on disk. */
interface Job {
  undo: (() => void | Promise<void>)[];
  fds: number[];
  record?: ContainerState;
}

/**
 * Undoes, newest first; the state dir goes last, and only when everything else went: while
 * something (a cgroup dir) is left, the record naming it stays, no longer ours, for `delete`.
 */
async function undoAll(root: string, id: string, job: Job): Promise<void> {
  let left = false;
  for (const undo of job.undo.reverse()) {
    try {
      await undo();
    } catch {
      left = true;
    }
  }
  try {
    if (!left) removeStateDir(root, id);
    else if (job.record) {
      delete job.record.bunrunc.creator;
      writeState(root, job.record);
    }
  } catch {}
}

async function createIn(opts: CreateOptions, spec: Spec, rootfs: string, job: Job): Promise<Created> {
  const { undo: cleanup, fds } = job;
  // Nothing is made before the record that names it: a create killed at any instant leaves what
  // `delete --force` can find.
  const spawner = opts.spawner ?? thisProcess;
  const cg: LifecycleCgroup = cgroupFor(opts.id, spec.linux?.cgroupsPath, { resources: spec.linux?.resources, systemd: opts.systemdCgroup, callerCgroups: spawner.cgroups, rootless: opts.rootlessCgroups ?? rootlessCgroups(), warn: opts.warn });
  refuseBusyCgroup(cg);
  const state = creatingRecord(opts, spec, rootfs, cg);
  if (spec.linux?.resources) state.bunrunc.resources = resourcesForState(spec.linux.resources);
  writeState(opts.root, state);
  job.record = state;
  phase("create.record");

  const fifo = fifoPath(opts.root, opts.id);
  makeFifo(fifo);
  const fifoFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  fds.push(fifoFd);
  phase("create.state-dir+fifo");

  const kmem = kernelMemoryWarning(spec.linux?.resources);
  if (kmem) opts.warn?.(kmem);
  cleanup.push(async () => {
    if (!(await removeCgroup(cg))) throw new Error("cgroup still busy");
  });
  cg.create();
  phase("create.cgroup");

  const listen = listenFds(spawner);
  const keepFds = listen + (opts.preserveFds ?? 0);
  // Extra fds are numbered in the init after the kept ones, in extraFds order.
  const extraFds = [fifoFd];
  let consoleSocketFd: number | undefined;
  if (spec.process?.terminal) {
    if (!opts.consoleSocket && opts.consoleFd === undefined) throw new BunruncError("usage", "create: --console-socket: required when process.terminal is true");
    const sock = opts.consoleFd ?? connectConsole(opts.consoleSocket!);
    if (opts.consoleFd === undefined) fds.push(sock);
    consoleSocketFd = FIRST_EXTRA_FD + keepFds + extraFds.length;
    extraFds.push(sock);
  } else if (opts.consoleSocket) {
    throw new BunruncError("usage", "create: --console-socket: only valid when process.terminal is true");
  }

  const idmapFds = makeIdmappedMounts(spec, opts.bundle, extraFds, fds, FIRST_EXTRA_FD + keepFds);
  const plan = compileFor(opts, spec, rootfs, cg, keepFds, listen, consoleSocketFd, idmapFds);
  for (const cap of plan.unknownCapabilities) opts.warn?.(`process.capabilities: unknown capability ${cap} ignored`);
  phase("create.plan");
  const userNs = Boolean(plan.cloneFlags & CLONE.NEWUSER);
  const rootfsMount = plan.inRuntimeMountNs ? mountsBefore(rootfs) : undefined;
  if (rootfsMount) cleanup.push(() => rootfsMount.detachNew());
  let joined = false;
  const child = spawnInit(
    spawner,
    {
      plan: plan.bytes,
      cloneFlags: plan.cloneFlags,
      keepFdsBelow: FIRST_EXTRA_FD + keepFds,
      extraFds,
      waitForParent: userNs,
      subreaper: opts.foreground?.subreaper,
      holdSignals: opts.foreground !== undefined,
    },
    fds,
    cleanup,
    (req) => {
      const spawned = spawnInCgroup(spawner, req, cg, fds);
      joined = spawned.joined;
      return spawned.child;
    },
  );
  phase("create.spawn");
  state.pid = child.pid;
  state.bunrunc.ownPidNs = Boolean(plan.cloneFlags & CLONE.NEWPID);
  if (userNs) {
    writeUserNsMaps(child, spec);
    ffi.syncSend(child.syncFd, 0);
  }
  const netDevices = moveNetDevicesIn(spec, child.pid);
  // Runs before the init is killed (cleanups run last first): a virtual device dies with its namespace.
  if (netDevices.length) cleanup.push(() => moveNetDevicesOut(child.pid, netDevices, () => {}));

  // In the record before the init's first stop writes it: delete moves them back.
  if (netDevices.length) state.bunrunc.netDevices = netDevices;
  await walkCreate(child, plan, state, spec, joined ? null : cg, (pid) => recordInit(opts.root, state, pid));
  phase("create.init-walked");
  if (rootfsMount) state.bunrunc.rootfsMount = rootfsMount.made();

  const st = procStat(state.pid);
  if (!st) throw new BunruncError("system", "create: the container process exited before it was created");
  state.bunrunc.initStartTime = st.startTime;
  state.status = "created";
  delete state.bunrunc.creator;
  writeState(opts.root, state);
  recordFastVerbs(opts.root, state);
  if (opts.pidFile) writePidFile(opts.pidFile, state.pid);
  phase("create.state-written");
  tellRecorded(child.syncFd);
  return { state, pidfd: child.pidfd };
}

/** No mount namespace: what is mounted at the rootfs before the init binds it, to find its bind after. */
function mountsBefore(rootfs: string): { made(): { path: string; id: number } | undefined; detachNew(): void } {
  const path = realRootfs(rootfs);
  const before = mountIdsAt(path);
  const made = () => {
    const id = newRootfsMount(path, before);
    return id === undefined ? undefined : { path, id };
  };
  return {
    made,
    detachNew() {
      const m = made();
      if (m) detachRootfsMount(m.path, m.id);
    },
  };
}

/**
 * The init's last word from us (zig/init/exec.zig waitStart): the record says created, so it may
 * outlive us. Not said (we died first), it exits instead of waiting for a start forever. An init
 * that died meanwhile reads as stopped; that is for `state` and `delete` to see.
 */
function tellRecorded(syncFd: number): void {
  try {
    ffi.syncSend(syncFd, 0);
  } catch {}
}

function compileFor(opts: CreateOptions, spec: Spec, rootfs: string, cg: LifecycleCgroup, keepFds: number, listen: number, consoleSocketFd: number | undefined, idmapFds: Map<number, number>): Plan {
  const seccomp = compileSeccompIfAny(spec, opts.root, { debug: opts.debug });
  try {
    return compilePlan(spec, {
      id: opts.id,
      bundle: opts.bundle,
      rootfs,
      execFifoFd: FIRST_EXTRA_FD + keepFds,
      consoleSocketFd,
      keepFds,
      extraEnv: listen ? [`LISTEN_FDS=${listen}`, "LISTEN_PID=1"] : [],
      noPivot: opts.noPivot,
      noNewKeyring: opts.noNewKeyring,
      cgroup: { version: cg.version, paths: cg.paths },
      idmapFds,
      seccomp,
    });
  } catch (e) {
    if (e instanceof CompileError || e instanceof RangeError) throw new BunruncError("invalid-config", `create: ${e.message}`);
    throw e;
  }
}

/** systemd socket activation: fds 3.. handed to us are passed on when LISTEN_PID is us (runc does). */
function listenFds(spawner: Spawner): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  if (!(n > 0) || process.env.LISTEN_PID !== String(spawner.pid)) return 0;
  return n;
}

/**
 * Answers the init's WAIT stops until it reports CREATED. `cg` null: the init joined its cgroup
 * at spawn, the Setup stop has nothing to add. `record(pid)`: the container's pid goes into the
 * record, at the Setup stop and on FORKED.
 */
function walkCreate(child: InitChild, plan: Plan, state: ContainerState, spec: Spec, cg: LifecycleCgroup | null, record: (pid: number) => void): Promise<void> {
  return walkInit(
    CREATE_VOICE,
    child,
    plan,
    {
      wait: async (tag) => {
        if (tag === WaitTag.Setup) record(state.pid);
        if (tag === WaitTag.Seccomp) passListener(child.syncFd, state, spec);
        else await answerWait(tag, state, spec, cg);
        return true;
      },
      forked: record,
      created: (msg) => {
        if (!plan.forks) state.pid = msg.pid > 0 ? msg.pid : state.pid;
      },
    },
    SYNC_TIMEOUT_MS,
  );
}

/** SCMP_ACT_NOTIFY: the init's listener fd goes to linux.seccomp.listenerPath (src/seccomp/listener.ts). */
function passListener(syncFd: number, state: ContainerState, spec: Spec): void {
  const s = spec.linux?.seccomp as { listenerPath?: string; listenerMetadata?: string };
  try {
    handOverListener(syncFd, SYNC_TIMEOUT_MS, { listenerPath: s.listenerPath!, listenerMetadata: s.listenerMetadata, state: hookState(state, "creating") as ListenerTarget["state"] });
  } catch (e) {
    throw new BunruncError("system", `create: hand the seccomp listener to ${s.listenerPath}: ${(e as Error).message}`);
  }
}

async function answerWait(tag: number, state: ContainerState, spec: Spec, cg: LifecycleCgroup | null): Promise<void> {
  if (tag === WaitTag.Setup) {
    try {
      cg?.addProcess(state.pid);
      // Recorded once systemd made the unit for us (a name in use stays another's); until the
      // next record a crash here ends the init, and systemd drops the emptied scope by itself.
      if (cg?.systemdUnit) state.bunrunc.systemdUnit = cg.systemdUnit;
      const invocationId = cg?.systemdInvocationId?.();
      if (invocationId) state.bunrunc.systemdInvocationId = invocationId;
    } catch (e) {
      // The systemd driver's failures name the unit and the flag already.
      if (cg?.systemdUnit) throw new BunruncError("system", `create: ${(e as Error).message}`);
      throw new BunruncError("system", `create: add pid ${state.pid} to cgroup ${Object.values(cg!.paths)[0]}: ${(e as Error).message}`);
    }
    return;
  }
  if (tag === WaitTag.Hooks && hasCreateHooks(spec)) {
    const s = hookState(state, "creating");
    const wrap = async (kind: "prestart" | "createRuntime" | "createContainer") => {
      try {
        await runHooks(kind, spec.hooks?.[kind], s);
      } catch (e) {
        throw new BunruncError("system", `create: ${(e as Error).message}`);
      }
    };
    await wrap("prestart");
    await wrap("createRuntime");
    await wrap("createContainer");
    return;
  }
  throw unknownTag(CREATE_VOICE, tag);
}
