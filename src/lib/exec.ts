// `exec`: a new process in a running (or created) container. The init is spawned with a pidfd
// of the container's init; it stops once so we can put it in the container's cgroup, joins every
// namespace of the container's init that differs from ours, forks into its pid namespace, stops
// again so we can hold a pidfd of the process, then shapes and execs it. Its exec closes the
// sync socket: EOF is success, an ERROR record is the one-line failure. Exit code: the process's
// own in the foreground, 0 detached; runtime failures make the CLI exit 255 (runc's contract).
import { closeSync, constants, openSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ffi from "../ffi.ts";
import { openTasksFiles } from "../cgroups/files.ts";
import { compileExecPlan, ExecWait, type ExecPlan } from "../plan/exec.ts";
import { selinuxEnabled } from "../plan/host.ts";
import { CLONE } from "../plan/linux.ts";
import { CompileError } from "../plan/mounts.ts";
import { loadSpec } from "./bundle.ts";
import { hookState, readState, refresh, type ContainerState } from "./container.ts";
import { handOverListener, type ListenerTarget } from "../seccomp/listener.ts";
import { compileSeccompIfAny } from "../seccomp/container.ts";
import { writePidFile } from "../state/pid-file.ts";
import { BunruncError } from "../base/errors.ts";
import { execCgroupDirs } from "./exec-cgroup.ts";
import { execProcess, fail, type ProcessOverrides } from "./exec-overrides.ts";
import { catchSignals, type Foreground } from "./foreground.ts";
import { thisProcess, type Handback, type Spawner } from "./spawner.ts";
import { openInit } from "./init-process.ts";
import { EXEC_VOICE, killAndReap, spawnInit, unknownTag, walkInit, type InitChild } from "./init-handshake.ts";
import { receiveMaster } from "./tty.ts";
import { clip } from "../base/quote.ts";
import { phase } from "../base/timing.ts";

export interface ExecOptions extends ProcessOverrides {
  root: string;
  id: string;
  /** Where the pty master goes (process.terminal with --detach). */
  consoleSocket?: string;
  /** Return once the process runs (0) instead of waiting for its exit code. */
  detach?: boolean;
  pidFile?: string;
  /** fds 3..3+n-1 of ours stay open in the process. */
  preserveFds?: number;
  /** --cgroup: "[controller[,controller]:]path" sub-cgroups of the container's to run in. */
  cgroup?: string[];
  /** Exec into a paused container (the process stays frozen until resume). */
  ignorePaused?: boolean;
  /** An AF_UNIX socket that receives a pidfd of the process (SCM_RIGHTS). */
  pidfdSocket?: string;
  warn?: (message: string) => void;
  /** Who clones the process (src/lib/spawner.ts); this process by default. */
  spawner?: Spawner;
}

const SYNC_TIMEOUT_MS = 60_000;
/** runc exits 255 for every exec failure, flag combinations included. */
const EXEC_FAILED = 255;
const FIRST_EXTRA_FD = 3;
const NS_FILES: readonly [string, number][] = [
  ["user", CLONE.NEWUSER],
  ["mnt", CLONE.NEWNS],
  ["pid", CLONE.NEWPID],
  ["net", CLONE.NEWNET],
  ["ipc", CLONE.NEWIPC],
  ["uts", CLONE.NEWUTS],
  ["cgroup", CLONE.NEWCGROUP],
  ["time", CLONE.NEWTIME],
];

/** Runs the process; resolves with its exit code (0 when detached). */
export async function exec(opts: ExecOptions): Promise<number> {
  return (await execFor({ ...opts, spawner: thisProcess })) as number;
}

/** exec for `opts.spawner`: the exit code, or a Handback when the spawner's caller waits itself. */
export async function execFor(opts: ExecOptions): Promise<number | Handback> {
  const spawner = opts.spawner ?? thisProcess;
  const saved = readState(opts.root, opts.id);
  checkStatus(refresh(opts.root, saved), opts);
  phase("exec.state-read");
  const spec = loadSpec(saved.bundle);
  const proc = execProcess(spec.process, opts);
  checkTerminal(Boolean(proc.terminal), opts);
  const cgroupDirs = execCgroupDirs(saved.bunrunc, opts.cgroup ?? []);
  const seccomp = compileSeccompIfAny(spec, opts.root);
  const listener = seccomp?.listener ? listenerOf(spec, saved) : undefined;
  phase("exec.config");

  const fds: number[] = [];
  const undo: (() => void)[] = [];
  let fg: Foreground | undefined;
  try {
    const initPidfd = openInit(saved.pid, saved.bunrunc.initStartTime);
    if (initPidfd === null) throw new BunruncError("bad-state", "exec failed: cannot exec in a stopped container");
    fds.push(initPidfd);
    const namespaces = namespacesOf(saved.pid);
    const keepBelow = FIRST_EXTRA_FD + (opts.preserveFds ?? 0);
    const extraFds = [initPidfd];
    let rootFd: number | undefined;
    if (saved.bunrunc.rootfsMount) {
      extraFds.push(openInitRoot(saved.pid, initPidfd));
      fds.push(extraFds[1]!);
      rootFd = keepBelow + 1;
    }
    let ownEnd: number | undefined;
    let consoleSocketFd: number | undefined;
    if (proc.terminal) {
      let theirs: number;
      if (opts.consoleSocket) theirs = connectSocket(opts.consoleSocket, "--console-socket");
      else [ownEnd, theirs] = ffi.socketpair();
      fds.push(theirs);
      if (ownEnd !== undefined) fds.push(ownEnd);
      consoleSocketFd = keepBelow + extraFds.length;
      extraFds.push(theirs);
    }
    const plan = compile(() =>
      compileExecPlan({ id: saved.id, process: proc, linux: spec.linux, namespaces, initPidfdFd: keepBelow, consoleSocketFd, keepFds: opts.preserveFds, seccomp, newKeyring: true, selinuxEnabled, rootFd }),
    );
    for (const cap of plan.unknownCapabilities) opts.warn?.(`process.capabilities: unknown capability ${cap} ignored`);
    phase("exec.plan");

    // In the foreground the process (a grandchild once the intermediate exits) must come back to us.
    // A spawner whose caller waits itself (a front) holds the signals there.
    const foreground = !opts.detach;
    if (foreground && !spawner.waitsInCaller) {
      fg = catchSignals();
      const caught = fg;
      undo.push(() => caught.release());
    }
    // v1: the child joins the cgroup itself (cheap); otherwise the JoinCgroup stop adds its pid.
    const joinFds = saved.bunrunc.cgroupVersion === 1 ? openTasksFiles(cgroupDirs) : null;
    if (joinFds) fds.push(...joinFds);
    const child = spawnInit(spawner, { plan: plan.bytes, cloneFlags: 0, keepFdsBelow: keepBelow, extraFds, cgroupJoinFds: joinFds ?? undefined, subreaper: foreground, holdSignals: foreground }, fds, undo);
    phase("exec.spawn");
    const pidfd = await walk(spawner, child, plan, joinFds ? [] : cgroupDirs, opts.ignorePaused ? -1 : SYNC_TIMEOUT_MS, undo, listener);
    if (plan.forks) {
      // The intermediate exits right after FORKED; once it is reaped the process is reparented.
      spawner.waitExited(child.pidfd);
      ffi.close(child.pidfd);
    }
    undo.length = 0;
    phase("exec.walked");
    return await afterStart(opts, spawner, pidfd.fd, pidfd.pid, ownEnd, fg);
  } catch (e) {
    for (const u of undo.reverse()) u();
    throw e;
  } finally {
    for (const fd of fds) ffi.close(fd);
  }
}

const POLLIN = 1;

/**
 * The init's root (the rootfs bind create chrooted it into), for a container without a mount
 * namespace. Opened by pid, then the pidfd says the init is still alive: the pid was not reused.
 */
function openInitRoot(pid: number, initPidfd: number): number {
  const fd = openSync(`/proc/${pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
  if (ffi.pollFd(initPidfd, POLLIN, 0) !== 0) {
    closeSync(fd);
    throw new BunruncError("bad-state", "exec failed: cannot exec in a stopped container");
  }
  return fd;
}

function checkStatus(s: ContainerState, opts: ExecOptions): void {
  if (s.status === "stopped") throw new BunruncError("bad-state", "exec failed: cannot exec in a stopped container");
  if (s.status === "creating") throw new BunruncError("bad-state", "exec failed: cannot exec in a container that is being created");
  if (s.status === "paused" && !opts.ignorePaused) {
    throw new BunruncError("bad-state", "exec failed: cannot exec in a paused container (use --ignore-paused to override)");
  }
}

/** runc's rules: a detached terminal needs somewhere to send the master; a socket needs both. */
function checkTerminal(terminal: boolean, opts: ExecOptions): void {
  if (opts.detach && terminal && !opts.consoleSocket) {
    throw new BunruncError("usage", "exec failed: --console-socket: required with --detach when the process has a terminal", EXEC_FAILED);
  }
  if (opts.consoleSocket && (!opts.detach || !terminal)) {
    throw new BunruncError("usage", "exec failed: --console-socket: only valid with --detach and a terminal (--tty or process.terminal)", EXEC_FAILED);
  }
}

function compile(f: () => ExecPlan): ExecPlan {
  try {
    return f();
  } catch (e) {
    if (e instanceof CompileError || e instanceof RangeError) throw fail(e.message);
    throw e;
  }
}

/** The namespaces of the container's init that are not ours (joining one we are in is an error for user). */
function namespacesOf(pid: number): number {
  let mask = 0;
  for (const [file, bit] of NS_FILES) {
    try {
      const theirs = statSync(`/proc/${pid}/ns/${file}`);
      const ours = statSync(`/proc/self/ns/${file}`);
      if (theirs.ino !== ours.ino || theirs.dev !== ours.dev) mask |= bit;
    } catch {
      // This kernel has no such namespace type.
    }
  }
  return mask;
}

/** Answers the init's stops; resolves with a pidfd of the process once its exec closed the socket. */
async function walk(spawner: Spawner, child: InitChild, plan: ExecPlan, cgroupDirs: string[], timeoutMs: number, undo: (() => void)[], listener?: Omit<ListenerTarget, "state"> & { state: ContainerState }): Promise<{ fd: number; pid: number }> {
  let pid = plan.forks ? 0 : child.pid;
  let pidfd = plan.forks ? -1 : child.pidfd;
  let forkedWaiting = false;
  // The process may report its stop before the intermediate's FORKED arrives: ack once both came.
  const openProcess = () => {
    pidfd = ffi.pidfdOpen(pid);
    const fd = pidfd;
    undo.push(() => {
      // Until the intermediate (which exits right after FORKED) is gone, the process is its child:
      // killed then, it would come back to us (subreaper) only after our wait, and outlive us as
      // a zombie in the container. So: kill it, collect the intermediate, then reap it.
      try {
        ffi.pidfdSendSignal(fd, 9);
      } catch {} // exited already
      spawner.waitExited(child.pidfd);
      killAndReap(spawner, fd);
    });
    ffi.syncSend(child.syncFd, 0);
  };
  await walkInit(
    EXEC_VOICE,
    child,
    plan,
    {
      wait: (tag) => {
        if (tag === ExecWait.JoinCgroup) {
          joinCgroup(child.pid, cgroupDirs);
          return true;
        }
        if (tag === ExecWait.Seccomp && listener) {
          passListener(child.syncFd, timeoutMs, listener, pid || child.pid);
          return true;
        }
        if (tag === ExecWait.Forked) {
          forkedWaiting = true;
          if (pid) openProcess();
          return false;
        }
        throw unknownTag(EXEC_VOICE, tag);
      },
      forked: (forkedPid) => {
        pid = forkedPid;
        if (forkedWaiting) openProcess();
      },
    },
    timeoutMs,
  );
  if (pidfd < 0) throw new BunruncError("system", "exec failed: the init exited before the process started");
  return { fd: pidfd, pid };
}

/** linux.seccomp's listener target for an exec'd process. */
function listenerOf(spec: { linux?: { seccomp?: unknown } }, saved: ContainerState): Omit<ListenerTarget, "state"> & { state: ContainerState } {
  const s = spec.linux?.seccomp as { listenerPath?: string; listenerMetadata?: string };
  return { listenerPath: s.listenerPath!, listenerMetadata: s.listenerMetadata, state: saved };
}

/**
 * SCMP_ACT_NOTIFY in an exec'd process: its listener fd goes to listenerPath as create's does,
 * with the exec'd process's pid and the container's state (running); the process goes on once
 * the agent holds the fd.
 */
function passListener(syncFd: number, timeoutMs: number, l: Omit<ListenerTarget, "state"> & { state: ContainerState }, pid: number): void {
  const state = { ...(hookState(l.state, "running") as ListenerTarget["state"]) };
  try {
    handOverListener(syncFd, timeoutMs < 0 ? SYNC_TIMEOUT_MS : timeoutMs, { listenerPath: l.listenerPath, listenerMetadata: l.listenerMetadata, state, pid });
  } catch (e) {
    throw new BunruncError("system", `exec failed: hand the seccomp listener to ${l.listenerPath}: ${(e as Error).message}`);
  }
}

function joinCgroup(pid: number, dirs: string[]): void {
  for (const dir of dirs) {
    try {
      writeFileSync(join(dir, "cgroup.procs"), String(pid));
    } catch (e) {
      throw new BunruncError("system", `exec failed: join cgroup ${dir}: ${(e as Error).message}`);
    }
  }
}

async function afterStart(opts: ExecOptions, spawner: Spawner, pidfd: number, pid: number, ownEnd: number | undefined, fg: Foreground | undefined): Promise<number | Handback> {
  try {
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    if (opts.pidfdSocket) sendPidfd(opts.pidfdSocket, pidfd);
  } catch (e) {
    // runc's rule too: a process whose pid could not be handed over is not left running.
    fg?.release();
    killAndReap(spawner, pidfd);
    throw e instanceof BunruncError ? e : new BunruncError("system", `exec failed: ${(e as Error).message}`);
  }
  if (opts.detach) {
    ffi.close(pidfd);
    return 0;
  }
  if (spawner.waitsInCaller) {
    ffi.close(pidfd);
    return { waitFor: pid };
  }
  const master = ownEnd === undefined ? undefined : receiveMaster(ownEnd);
  return fg!.wait({ pidfd, pid, master });
}

/** A connected AF_UNIX stream socket to a path the caller gave with `flag`. */
function connectSocket(path: string, flag: string): number {
  try {
    return ffi.unixConnect(path);
  } catch (e) {
    throw new BunruncError("system", `exec failed: ${flag} ${clip(path)}: ${(e as Error).message}`);
  }
}

function sendPidfd(path: string, pidfd: number): void {
  const sock = connectSocket(path, "--pidfd-socket");
  try {
    ffi.sendFd(sock, pidfd, "pidfd");
  } catch (e) {
    throw new BunruncError("system", `exec failed: --pidfd-socket ${clip(path)}: ${(e as Error).message}`);
  } finally {
    ffi.close(sock);
  }
}
