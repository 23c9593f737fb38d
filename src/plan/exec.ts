// The plan of `exec`: the init joins the container's cgroup (the runtime writes its pid while it
// waits), then all of the container's namespaces at once through a pidfd of the container's
// init, forks into the pid namespace, and shapes the process like create does (console or
// setsid, keyring, rlimits, scheduling, seccomp, identity, cwd, exec). No mounts: the mount
// namespace it joins is already the container's, and setns put its root and cwd there (a
// container without one: the process chroots into its init's root).
import { CLONE } from "./linux.ts";
import { CompileError } from "./mounts.ts";
import { emitExecTarget, emitFinalAffinity, emitIdentity, emitInitialAffinity, emitLsmLabels, emitRlimits, emitScheduling } from "./process-ops.ts";
import type { SpecLinux, SpecProcess } from "../config/types.ts";
import { Op, PlanWriter } from "./wire.ts";

/** WAIT tags of an exec plan (the exec walker answers them, not create's). */
export enum ExecWait {
  /** Put the init's pid into the container's cgroup(s) before it joins the namespaces. */
  JoinCgroup = 1,
  /** The process exists in the container's pid namespace: open a pidfd for it while it waits. */
  Forked = 2,
  /** SCMP_ACT_NOTIFY: the listener fd follows; hand it to listenerPath (the init's tag, as create's). */
  Seccomp = 3,
}

export interface ExecPlanOptions {
  /** The container's id (names the session keyring, as create does). */
  id: string;
  /** The effective process: process.json or config.json's process with the flags applied. */
  process: SpecProcess;
  /** The container's linux section (personality applies to exec'd processes too). */
  linux?: SpecLinux;
  /** CLONE_NEW* bits of the namespaces to join (the container init's that differ from ours). */
  namespaces: number;
  /** fd number, in the init, of a pidfd of the container's init. */
  initPidfdFd: number;
  /** fd number, in the init, of the socket the pty master goes to (process.terminal). */
  consoleSocketFd?: number;
  /** --preserve-fds: fds 3..3+n-1 stay open in the process. */
  keepFds?: number;
  /** The container's compiled seccomp filter, when it has one. */
  seccomp?: { flags: number; program: Uint8Array; listener?: boolean };
  /** Join a new session keyring (runc does for exec too, unless the container was made with --no-new-keyring). */
  newKeyring: boolean;
  /** SELinux is enabled on this host (a label without it is refused). */
  selinuxEnabled: () => boolean;
  /**
   * fd number, in the init, of the container init's root directory: the container has no mount
   * namespace to join, so the process chroots there instead (create chrooted its init too).
   */
  rootFd?: number;
}

export interface ExecPlan {
  bytes: Uint8Array;
  descriptions: string[];
  /** The process is a grandchild (pid namespace joined): its pid arrives in FORKED. */
  forks: boolean;
  unknownCapabilities: string[];
}

// keyctl permission bits (KEY_USR_SEARCH, KEY_OTH_SEARCH).
const KEY_USR_SEARCH = 0x80000;
const KEY_OTH_SEARCH = 0x8;

const NAMESPACE_NAMES: readonly [number, string][] = [
  [CLONE.NEWUSER, "user"],
  [CLONE.NEWNS, "mount"],
  [CLONE.NEWPID, "pid"],
  [CLONE.NEWNET, "network"],
  [CLONE.NEWIPC, "ipc"],
  [CLONE.NEWUTS, "uts"],
  [CLONE.NEWCGROUP, "cgroup"],
  [CLONE.NEWTIME, "time"],
];

export function namespaceNames(mask: number): string[] {
  return NAMESPACE_NAMES.filter(([bit]) => mask & bit).map(([, name]) => name);
}

export function compileExecPlan(o: ExecPlanOptions): ExecPlan {
  const p = o.process;
  if (!p.args?.length) throw new CompileError("process.args: must contain at least one entry");
  const w = new PlanWriter();
  const unknownCapabilities: string[] = [];
  const forks = Boolean(o.namespaces & CLONE.NEWPID);

  emitInitialAffinity(w, p);
  w.op(Op.WaitParent, "join the container's cgroup").u32(ExecWait.JoinCgroup);
  if (o.namespaces) {
    w.op(Op.SetnsPidfd, `join the container's namespaces (${namespaceNames(o.namespaces).join(", ")})`)
      .u32(o.namespaces)
      .i32(o.initPidfdFd);
  }
  if (o.rootFd !== undefined) w.op(Op.ChrootRootfs, "chroot into the container's root").i32(o.rootFd);
  if (forks) {
    // setns(CLONE_NEWPID) only moves future children: fork so the process is inside.
    w.op(Op.Fork, "fork into the container's pid namespace");
    w.op(Op.WaitParent, "hand the process's pid to the runtime").u32(ExecWait.Forked);
  }
  emitLsmLabels(w, p, o.selinuxEnabled);
  if (p.terminal) {
    if (o.consoleSocketFd === undefined) throw new CompileError("process.terminal: a console socket is required");
    // The container's /dev/console is create's: exec only gets its own pty.
    w.op(Op.Console, "set up the console").i32(o.consoleSocketFd).u32(Number(p.consoleSize?.height ?? 0)).u32(Number(p.consoleSize?.width ?? 0)).u32(0);
  } else {
    // Its own session: it must not reach a terminal of the caller's session (TIOCSTI).
    w.op(Op.Setsid, "setsid");
  }
  if (o.newKeyring) {
    // create's name and permissions: "other" must be able to search it inside a user namespace.
    const search = o.namespaces & CLONE.NEWUSER ? KEY_OTH_SEARCH : KEY_USR_SEARCH;
    w.op(Op.NewKeyring, "join a new session keyring").str(`_ses.${o.id}`).u32(search);
  }
  emitRlimits(w, p);
  emitScheduling(w, p, o.linux);
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the identity drops it.
  const seccompEarly = o.seccomp && !p.noNewPrivileges;
  if (seccompEarly) emitSeccomp(w, o.seccomp!);
  emitIdentity(w, p, unknownCapabilities);
  emitExecTarget(w, p, []);
  emitFinalAffinity(w, p);
  if (o.keepFds) w.op(Op.KeepFds, `keep fds 3..${2 + o.keepFds}`).u32(3).u32(o.keepFds);
  if (o.seccomp && !seccompEarly) emitSeccomp(w, o.seccomp);
  w.op(Op.Exec, `exec ${p.args[0]}`);
  const { bytes, descriptions } = w.finish();
  return { bytes, descriptions, forks, unknownCapabilities };
}

function emitSeccomp(w: PlanWriter, s: { flags: number; program: Uint8Array; listener?: boolean }): void {
  w.op(Op.Seccomp, "load the seccomp filter").u32(s.flags).bytes(s.program).u32(s.listener ? 1 : 0);
}
