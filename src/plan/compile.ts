// A validated Spec + runtime options -> the plan the init executes, in runc's order.
// Pure apart from stat()ing bind-mount sources; every op carries the description the user reads
// when that step fails ("create: mount proc on /proc: permission denied").
import { CLONE, MS } from "./linux.ts";
import { devIsBound, emitMounts, CompileError, type CgroupView } from "./mounts.ts";
import { emitDevices } from "./devices.ts";
import { fullProcSysMounts, selinuxEnabled } from "./host.ts";
import { PROPAGATION_OPTIONS } from "./mount-options.ts";
import { emitNamespaces } from "./namespaces.ts";
import { emitExecTarget, emitIdentity, emitLsmLabels, emitResetAffinity, emitRlimits, emitScheduling } from "./process-ops.ts";
import type { Spec, SpecHook } from "../config/types.ts";
import { Op, PlanWriter } from "./wire.ts";
import { quote } from "../base/quote.ts";

export { CompileError } from "./mounts.ts";

/** WAIT tags: what the parent does when the init stops at a WaitParent op. */
export enum WaitTag {
  /** Put the init in its cgroup (v1), anything else the parent owes before the mounts. */
  Setup = 1,
  /** Run prestart, createRuntime and createContainer hooks. */
  Hooks = 2,
  /** The seccomp listener fd follows: hand it to listenerPath (src/seccomp/listener.ts). */
  Seccomp = 3,
}

export interface CompileOptions {
  bundle: string;
  /** Absolute host path of the rootfs. */
  rootfs: string;
  /** fd number (in the init) of the exec fifo opened O_RDONLY|O_NONBLOCK. */
  execFifoFd: number;
  /** fd number (in the init) of the connected --console-socket, when process.terminal. */
  consoleSocketFd?: number;
  /** Extra fds kept for the process from fd 3 on: --preserve-fds + LISTEN_FDS. */
  keepFds?: number;
  /** Appended to process.env (LISTEN_FDS/LISTEN_PID). */
  extraEnv?: string[];
  noPivot?: boolean;
  noNewKeyring?: boolean;
  cgroup?: CgroupView;
  /** mounts[] index -> the init's fd of its idmapped mount (made by src/lib/idmap.ts). */
  idmapFds?: ReadonlyMap<number, number>;
  /** Compiled process.linux.seccomp (src/seccomp), absent when the config has none. */
  seccomp?: { flags: number; program: Uint8Array; listener?: boolean };
  /** The container id: startContainer hooks get a state JSON built from it at compile time. */
  id: string;
  /** Host probes, replaceable in tests. */
  host?: { selinuxEnabled?: () => boolean; procSysMounts?: (rootfs: string) => string[] };
}

export interface Plan {
  bytes: Uint8Array;
  descriptions: string[];
  /** CLONE_NEW* bits for clone3: the namespaces the container creates, but cgroup and time (made by the init later). */
  cloneFlags: number;
  /** CLONE_NEW* bits of every namespace the container creates. */
  newNamespaces: number;
  /** The init forks after joining a pid namespace by path; the container pid comes in FORKED. */
  forks: boolean;
  /** Capability names the kernel table does not know (ignored, like runc; warn about them). */
  unknownCapabilities: string[];
  /**
   * No mount namespace listed: the rootfs bind (Op.BindRootfsPrivate) and every mount under it
   * are made in the runtime's mount namespace, and stay there until `delete` detaches the bind.
   */
  inRuntimeMountNs: boolean;
}

const HOOK_TIMEOUT_NONE = 0;
// keyctl permission bits (KEY_USR_SEARCH, KEY_OTH_SEARCH).
const KEY_USR_SEARCH = 0x80000;
const KEY_OTH_SEARCH = 0x8;

export function hasCreateHooks(spec: Spec): boolean {
  const h = spec.hooks;
  return Boolean(h?.prestart?.length || h?.createRuntime?.length || h?.createContainer?.length);
}

export function compilePlan(spec: Spec, opts: CompileOptions): Plan {
  const p = spec.process;
  if (!p) throw new CompileError("process: required to create a container");
  const linux = spec.linux ?? {};
  const w = new PlanWriter();
  const unknownCapabilities: string[] = [];

  w.op(Op.WaitParent, "wait for the runtime's setup (cgroup)").u32(WaitTag.Setup);
  emitResetAffinity(w, p);
  // Before any join: a joined user namespace would cost the init its rights over the network
  // namespace clone3 made (owned by the caller's user namespace or by the new one).
  if (newNetNamespace(spec)) w.op(Op.LoopbackUp, "bring the loopback device up");
  const ns = emitNamespaces(w, spec);
  const inRuntimeMountNs = !(ns.listed & CLONE.NEWNS);
  const selinux = opts.host?.selinuxEnabled ?? selinuxEnabled;
  // runc drops the label quietly without SELinux; asked for and impossible to apply, it is refused.
  if (linux.mountLabel && !selinux()) throw new CompileError("linux.mountLabel: set, but SELinux is disabled or not supported on this host");
  emitRootfs(w, spec, opts, ns.created, inRuntimeMountNs);
  if (hasCreateHooks(spec)) w.op(Op.WaitParent, "wait for prestart/createRuntime/createContainer hooks").u32(WaitTag.Hooks);
  if (inRuntimeMountNs) {
    // Neither pivot_root nor --no-pivot's MS_MOVE may touch the runtime's "/": chroot, as runc.
    w.op(Op.ChrootRootfs, `chroot into ${opts.rootfs}`).i32(-1);
  } else if (opts.noPivot) {
    const hide = (opts.host?.procSysMounts ?? fullProcSysMounts)(opts.rootfs);
    w.op(Op.MoveRoot, `move ${opts.rootfs} onto / and chroot`).strs(hide);
  } else {
    w.op(Op.PivotRoot, `pivot_root into ${opts.rootfs}`);
  }
  // runc makes the cwd when it is missing, as root and before the rootfs may turn read-only.
  w.op(Op.MkdirAll, `create the working directory ${p.cwd}`).str(p.cwd);

  for (const [key, value] of Object.entries(linux.sysctl ?? {})) w.op(Op.Sysctl, `write sysctl ${key}`).str(checkSysctlKey(key)).str(value);
  if (p.terminal) {
    // As runc, before the masks and root.readonly: /dev/console may have to be made in the rootfs.
    if (opts.consoleSocketFd === undefined) throw new CompileError("--console-socket: required when process.terminal is true");
    w.op(Op.Console, "set up the console")
      .i32(opts.consoleSocketFd)
      .u32(Number(p.consoleSize?.height ?? 0))
      .u32(Number(p.consoleSize?.width ?? 0))
      .u32(1);
  }
  for (const path of linux.readonlyPaths ?? []) w.op(Op.ReadonlyPath, `make ${path} read-only`).str(path);
  for (const path of linux.maskedPaths ?? []) w.op(Op.MaskPath, `mask ${path}`).str(path);
  if (spec.root?.readonly) w.op(Op.ReadonlyRoot, "remount the rootfs read-only");
  // A joined uts namespace gets the names too (runc sets them in any uts namespace it was given).
  if (spec.hostname !== undefined && ns.listed & CLONE.NEWUTS) w.op(Op.Hostname, `set hostname ${spec.hostname}`).str(spec.hostname);
  if (spec.domainname !== undefined && ns.listed & CLONE.NEWUTS) w.op(Op.Domainname, `set domainname ${spec.domainname}`).str(spec.domainname);
  emitLsmLabels(w, p, selinux);

  if (!p.terminal) w.op(Op.Setsid, "setsid");
  if (!opts.noNewKeyring) {
    // runc's name; with a user namespace "other" must be able to search it, else the uid.
    const search = ns.created & CLONE.NEWUSER ? KEY_OTH_SEARCH : KEY_USR_SEARCH;
    w.op(Op.NewKeyring, "join a new session keyring").str(`_ses.${opts.id}`).u32(search);
  }
  emitRlimits(w, p);
  emitScheduling(w, p, linux);

  const seccompEarly = opts.seccomp && !p.noNewPrivileges;
  if (seccompEarly) emitSeccomp(w, opts.seccomp!);
  emitIdentity(w, p, unknownCapabilities);
  emitExecTarget(w, p, opts.extraEnv ?? []);
  if (opts.keepFds) w.op(Op.KeepFds, `keep fds 3..${2 + opts.keepFds}`).u32(3).u32(opts.keepFds);
  w.op(Op.NonDumpable, "make the init non-dumpable");
  // A filter with a listener hands its fd to create, which is gone after ReportCreated (runc
  // also loads it before the exec fifo wait).
  if (opts.seccomp && !seccompEarly && opts.seccomp.listener) emitSeccomp(w, opts.seccomp);
  w.op(Op.ReportCreated, "report created");
  w.op(Op.WaitStart, "wait for start").i32(opts.execFifoFd);
  const hookState = startHookState(spec, opts, ns.created);
  (spec.hooks?.startContainer ?? []).forEach((h, i) => emitHook(w, h, i, hookState));
  if (opts.seccomp && !seccompEarly && !opts.seccomp.listener) emitSeccomp(w, opts.seccomp);
  w.op(Op.Exec, `exec ${p.args![0]}`);

  const { bytes, descriptions } = w.finish();
  return { bytes, descriptions, cloneFlags: ns.cloneFlags, newNamespaces: ns.created, forks: ns.forks, unknownCapabilities, inRuntimeMountNs };
}

function emitRootfs(w: PlanWriter, spec: Spec, opts: CompileOptions, newNamespaces: number, inRuntimeMountNs: boolean): void {
  const linux = spec.linux ?? {};
  const given = linux.rootfsPropagation;
  if (inRuntimeMountNs) {
    // runc would apply it to the host's "/"; bunrunc leaves the host's mounts alone.
    if (given) throw new CompileError("linux.rootfsPropagation: needs a mount namespace (linux.namespaces has none, and bunrunc does not change the host's mount propagation)");
    w.op(Op.BindRootfsPrivate, `bind the rootfs ${opts.rootfs} (no mount namespace: in the runtime's)`).str(opts.rootfs);
  } else {
    const propagation = given ? PROPAGATION_OPTIONS[given] : MS.SLAVE | MS.REC;
    if (propagation === undefined) throw new CompileError(`linux.rootfsPropagation: unknown propagation ${quote(given)}`);
    // As runc: the mount holding the rootfs becomes slave when asked for, else private; an
    // explicit shared/unbindable is applied again to the new "/" once pivot_root made it one.
    const parent = given && propagation & MS.SLAVE ? MS.SLAVE : MS.PRIVATE;
    const final = given && !(propagation & (MS.PRIVATE | MS.SLAVE)) ? propagation : 0;
    w.op(Op.RootPropagation, `make / ${given ?? "rslave"}`).u64(propagation).u64(final);
    w.op(Op.BindRootfs, `bind the rootfs ${opts.rootfs}`).str(opts.rootfs).u64(parent);
  }
  const mounts = spec.mounts ?? [];
  const userNs = (linux.namespaces ?? []).some((n) => n.type === "user");
  emitMounts(w, mounts, { bundle: opts.bundle, cgroup: opts.cgroup, cgroupNs: Boolean(newNamespaces & CLONE.NEWCGROUP), userNs, mountLabel: linux.mountLabel, idmapFds: opts.idmapFds });
  emitDevices(w, linux.devices, devIsBound(mounts));
}

/** The config asks for a network namespace of its own (one joined by path is left as it is). */
function newNetNamespace(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === "network" && !n.path);
}

/** A sysctl key names a file under /proc/sys: plain names separated by dots, nothing that could climb out. */
function checkSysctlKey(key: string): string {
  const parts = key.split(".");
  if (key.includes("/") || parts.some((p) => p === "" || p === "..")) {
    throw new CompileError(`linux.sysctl[${quote(key)}]: not a sysctl key (dot-separated names, no "/" or empty parts)`);
  }
  return key;
}

function emitSeccomp(w: PlanWriter, s: NonNullable<CompileOptions["seccomp"]>): void {
  w.op(Op.Seccomp, "load the seccomp filter").u32(s.flags).bytes(s.program).u32(s.listener ? 1 : 0);
}

/**
 * The plan is fixed before the init exists, so the startContainer hooks' state carries the pid
 * as the container sees itself (1 in a new pid namespace), as runc's init reports getpid().
 */
function startHookState(spec: Spec, opts: CompileOptions, newNamespaces: number): Uint8Array {
  const state: Record<string, unknown> = { ociVersion: spec.ociVersion, id: opts.id, status: "created" };
  if (newNamespaces & CLONE.NEWPID) state.pid = 1;
  state.bundle = opts.bundle;
  if (spec.annotations && Object.keys(spec.annotations).length) state.annotations = spec.annotations;
  return new TextEncoder().encode(JSON.stringify(state));
}

function emitHook(w: PlanWriter, h: SpecHook, index: number, state: Uint8Array): void {
  w.op(Op.RunHook, `run startContainer hook ${index} (${h.path})`)
    .str(h.path)
    .strs(h.args ?? [h.path])
    .strs(h.env ?? [])
    .u32(Number(h.timeout ?? HOOK_TIMEOUT_NONE))
    .bytes(state);
}
