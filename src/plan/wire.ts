// Binary plan encoder: the TypeScript half of the plan format. zig/plan.zig is the other half;
// both sides must agree on PLAN_VERSION, every Op number and every payload's field order.
// Layout is described in docs/ARCHITECTURE.md ("Plan wire format").

import { PLAN_BYTES_MAX, PLAN_OPS_MAX, PLAN_STRING_BYTES_MAX } from "../base/plan-bounds.ts";
import { VALUE_CHARS_MAX } from "../base/quote.ts";

export const PLAN_MAGIC = 0x4c505242; // "BRPL"
export const PLAN_VERSION = 4;
export { PLAN_BYTES_MAX, PLAN_OPS_MAX, PLAN_STRING_BYTES_MAX };
/** Two values' worth (src/base/quote.ts VALUE_CHARS_MAX each) for a step's description. */
const DESCRIPTION_CHARS_MAX = 2 * VALUE_CHARS_MAX;

function clipMiddle(s: string): string {
  const head = Math.ceil(DESCRIPTION_CHARS_MAX / 2);
  return `${s.slice(0, head)}...${s.slice(s.length - (DESCRIPTION_CHARS_MAX - head - 3))}`;
}

/**
 * Ops the init executes in list order. Payload fields per op, in wire order.
 * Paths marked "in rootfs" are relative to the rootfs and resolved by the init without
 * ever leaving it (openat2 RESOLVE_IN_ROOT); other paths are as the init sees them then.
 */
export enum Op {
  /** tag u32 — send WAIT{tag} to the parent and block for its ack byte. */
  WaitParent = 1,
  /** nstype u32 (CLONE_NEW* bit), path str — open path and setns. */
  SetnsPath = 2,
  /** nstype_mask u32 (CLONE_NEW* bits), pidfd_num i32 — setns(pidfd, mask): join a live process's namespaces. */
  SetnsPidfd = 3,
  /** (none) — fork; the parent sends FORKED{pid} and exits 0; the child goes on (enters a joined pid ns). */
  Fork = 4,
  /**
   * flags u64, final u64 — mount(NULL, "/", NULL, flags) e.g. MS_REC|MS_SLAVE now; `final`
   * (0 = none) is applied to the new "/" right after PivotRoot/MoveRoot (rootfsPropagation).
   */
  RootPropagation = 5,
  /**
   * rootfs str, parent_propagation u64 (MS_PRIVATE or MS_SLAVE) — make the mount holding the
   * rootfs non-shared, bind rootfs onto itself (MS_BIND|MS_REC) and open it as the rootfs dirfd.
   */
  BindRootfs = 6,
  /**
   * source str, dest str (in rootfs), fstype str, flags u64 (MS_*), data str,
   * propagation u64 (MS_SHARED/SLAVE/PRIVATE/UNBINDABLE [|MS_REC]), attr_set u64, attr_clr u64
   * (MOUNT_ATTR_* applied recursively with mount_setattr when non-zero), mkdir u32
   * (0 = dest must exist, 1 = mkdir -p dest as a directory, 2 = create dest as an empty file),
   * tmpcopyup u32 (1 = copy dest's old contents into the new tmpfs), onto_proc u32 (1 = dest may
   * be a file on procfs: the lxcfs-style binds runc allows), tree_fd i32 (an idmapped detached
   * mount made on the host side, attached instead of cloning source; -1 = none).
   * The mount is made detached (open_tree clone of a bind source, fsopen/fsmount of a filesystem)
   * and attached onto the dest fd; the init refuses anything but procfs (sysfs) where dest
   * resolves onto the container's /proc (/sys), and anything but procfs on procfs unless onto_proc.
   * Bind mounts (MS_BIND) with ro/nosuid/nodev/noexec/atime flags get a MS_REMOUNT|MS_BIND pass.
   */
  Mount = 7,
  /** dest str (in rootfs), type u32 ('c','b','p' as char codes), major u32, minor u32, mode u32, uid u32, gid u32, bind_fallback u32 (1 = bind from host /dev path when mknod is not permitted). */
  Mknod = 8,
  /** target str, linkpath str (in rootfs) — symlink, EEXIST ignored. */
  Symlink = 9,
  /** (none) — pivot_root into the rootfs, detach the old root. */
  PivotRoot = 10,
  /** hide strs — --no-pivot: detach (or cover) the host's full proc/sysfs mounts listed, MS_MOVE the rootfs onto / and chroot("."). */
  MoveRoot = 11,
  /** path str (absolute, after pivot) — maskedPaths: a clone of the container's /dev/null (proven char 1:3, reached without symlinks) over files, read-only empty tmpfs over dirs; ENOENT ignored. */
  MaskPath = 12,
  /** path str (absolute, after pivot) — readonlyPaths: a read-only recursive clone of the tree mounted over itself; ENOENT ignored. */
  ReadonlyPath = 13,
  /** (none) — remount / read-only (root.readonly). */
  ReadonlyRoot = 14,
  /** key str (dots), value str — write sys/<key with / for .> beneath the init's own procfs. */
  Sysctl = 15,
  /** name str */
  Hostname = 16,
  /** name str */
  Domainname = 17,
  /**
   * socket_fd i32, rows u32, cols u32, mount_console u32 — allocate a pty from /dev/ptmx (container
   * devpts), send the master over the unix socket with SCM_RIGHTS, make the slave fds 0-2 and the
   * controlling terminal; mount_console 1 (create): bind the slave onto /dev/console, reached
   * without symlinks and made afresh when the rootfs put anything but a file or device there.
   */
  Console = 18,
  /** (none) — setsid() (when there is no console; runc's init is a session leader too). */
  Setsid = 19,
  /** resource u32, soft u64, hard u64 — setrlimit (prlimit64). */
  Rlimit = 20,
  /** name str, perm_set u32 — join a new session keyring `name` (keyctl JOIN_SESSION_KEYRING) and OR perm_set into its permissions; skipped with --no-new-keyring. An empty payload joins an anonymous keyring. */
  NewKeyring = 21,
  /** value i32 — write self/oom_score_adj beneath the init's own procfs. */
  OomScoreAdj = 22,
  /** policy u32, nice i32, priority u32, flags u64, runtime u64, deadline u64, period u64 — sched_setattr. */
  Scheduler = 23,
  /** class u32, priority u32 — ioprio_set(IOPRIO_WHO_PROCESS, 0, class<<13|prio). */
  IoPriority = 24,
  /** persona u32 */
  Personality = 25,
  /** cpus bytes (a cpu_set_t bitmask) — sched_setaffinity on self (execCPUAffinity.initial). */
  CpuAffinity = 26,
  /**
   * uid u32, gid u32, additional_gids bytes (u32 each), umask u32 (0xffffffff = leave),
   * bounding u64, effective u64, permitted u64, inheritable u64, ambient u64, no_new_privs u32.
   * Fixed internal order: bounding set drop, setgroups, setresgid, setresuid (keep caps), then
   * capset effective/permitted/inheritable, then ambient raise, then no_new_privs.
   */
  Identity = 27,
  /** dir str (container path) — chdir. */
  Chdir = 28,
  /** flags u32 (SECCOMP_FILTER_FLAG_*), program bytes (sock_filter array), listener u32 (1 = send the NOTIFY listener fd to the parent as msg SECCOMP_FD) */
  Seccomp = 29,
  /** path str, argv strs, env strs — resolve path against env PATH now (error: not found / not executable / missing interpreter); the exec itself is Exec. */
  ResolveExec = 30,
  /** (none) — send CREATED{pid} to the parent; after this the parent may be gone. */
  ReportCreated = 31,
  /** fifo_fd i32 — block until `start` writes a byte into the exec fifo; EOF on the sync socket before the runtime's "recorded" byte ends the init. */
  WaitStart = 32,
  /** path str, args strs, env strs, timeout_s u32, stdin bytes — run a hook inside the container (startContainer), fail on non-zero exit or timeout. */
  RunHook = 33,
  /** (none) — reset all signal dispositions to default, clear the mask, close_range CLOEXEC above the kept fds, execve the resolved ResolveExec target. */
  Exec = 34,
  /** first_fd u32, count u32 — fds [first, first+count) are kept (preserve-fds / LISTEN_FDS); others >= 3 are CLOEXEC'd before Exec. */
  KeepFds = 35,
  /** (none) — prctl(PR_SET_DUMPABLE, 0) until exec (the child is non-dumpable until exec). */
  NonDumpable = 36,
  /** flags u32 (CLONE_NEWCGROUP only) — unshare after the runtime put the init in its cgroup, so the container's cgroup is the namespace's root. */
  Unshare = 37,
  /** offsets str ("monotonic S N\nboottime S N\n" or empty) — unshare a time namespace, write its offsets, setns into it. */
  TimeNs = 38,
  /** paths strs (1-4 candidates, relative to procfs), value str — write value to the first path that exists beneath the init's own procfs (AppArmor profile / SELinux label for the exec). */
  ExecAttr = 39,
  /** path str (absolute, after pivot) — mkdir -p with mode 0755 (process.cwd, as runc makes it). */
  MkdirAll = 40,
  /** (none) — set the loopback device "lo" up (a network namespace the container creates; runc does it too). */
  LoopbackUp = 41,
  /**
   * rootfs str — no mount namespace of the container's own: bind the rootfs onto itself
   * (MS_BIND|MS_REC) in the runtime's mount namespace, make that bind rprivate (nothing mounted
   * under it propagates) and open it as the rootfs dirfd; the host's mounts keep their propagation.
   */
  BindRootfsPrivate = 42,
  /**
   * fd i32 — no mount namespace: chroot into the rootfs dirfd (-1; create, instead of pivot_root)
   * or into the directory fd given (exec: the container init's root), then chdir("/").
   */
  ChrootRootfs = 43,
  /** mode u32 (MPOL_* | MPOL_F_* flags), nodemask bytes (empty = none) — set_mempolicy (linux.memoryPolicy). */
  MemPolicy = 44,
}

/** Builds one plan. Each op call also records a human description for error messages. */
export class PlanWriter {
  private buf = new Uint8Array(64 * 1024);
  private view = new DataView(this.buf.buffer);
  private len = 16;
  private opStart = -1;
  private count = 0;
  readonly descriptions: string[] = [];
  private static readonly encoder = new TextEncoder();

  private grow(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (this.len + extra > size) size *= 2;
    if (size > PLAN_BYTES_MAX * 2) size = Math.max(this.len + extra, PLAN_BYTES_MAX);
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /**
   * Starts op `kind`; `description` names the step as the user reads it ("mount proc on /proc").
   * It is kept cut to DESCRIPTION_CHARS_MAX (in the middle: "mount <source> on <dest>" keeps its
   * ends), since it quotes config values into error lines.
   */
  op(kind: Op, description: string): this {
    if (this.opStart >= 0) this.endOp();
    this.grow(8);
    this.opStart = this.len;
    this.view.setUint16(this.len, kind, true);
    this.view.setUint16(this.len + 2, 0, true);
    this.view.setUint32(this.len + 4, 0, true);
    this.len += 8;
    this.descriptions.push(description.length > DESCRIPTION_CHARS_MAX ? clipMiddle(description) : description);
    this.count++;
    return this;
  }

  u32(v: number): this {
    this.grow(4);
    this.view.setUint32(this.len, v >>> 0, true);
    this.len += 4;
    return this;
  }

  i32(v: number): this {
    this.grow(4);
    this.view.setInt32(this.len, v | 0, true);
    this.len += 4;
    return this;
  }

  u64(v: bigint | number): this {
    this.grow(8);
    this.view.setBigUint64(this.len, BigInt.asUintN(64, BigInt(v)), true);
    this.len += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.grow(4 + b.length);
    this.view.setUint32(this.len, b.length, true);
    this.buf.set(b, this.len + 4);
    this.len += 4 + b.length;
    return this;
  }

  str(s: string): this {
    const b = PlanWriter.encoder.encode(s);
    if (b.length > PLAN_STRING_BYTES_MAX) throw new RangeError(`plan string longer than ${PLAN_STRING_BYTES_MAX} bytes: ${s.slice(0, 64)}...`);
    if (b.includes(0)) throw new RangeError(`plan string contains a NUL byte: ${JSON.stringify(s.slice(0, 64))}`);
    this.grow(5 + b.length);
    this.view.setUint32(this.len, b.length, true);
    this.buf.set(b, this.len + 4);
    this.buf[this.len + 4 + b.length] = 0;
    this.len += 5 + b.length;
    return this;
  }

  strs(list: readonly string[]): this {
    this.u32(list.length);
    for (const s of list) this.str(s);
    return this;
  }

  private endOp(): void {
    const payload = this.len - this.opStart - 8;
    this.view.setUint32(this.opStart + 4, payload, true);
    const pad = (8 - (this.len % 8)) % 8;
    this.grow(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
    this.opStart = -1;
  }

  /** Finishes the plan: returns the bytes (a copy) and the per-op descriptions. */
  finish(): { bytes: Uint8Array; descriptions: string[] } {
    if (this.opStart >= 0) this.endOp();
    if (this.count > PLAN_OPS_MAX) throw new RangeError(`plan has ${this.count} ops, more than ${PLAN_OPS_MAX}`);
    if (this.len > PLAN_BYTES_MAX) throw new RangeError(`plan is ${this.len} bytes, more than ${PLAN_BYTES_MAX}`);
    this.view.setUint32(0, PLAN_MAGIC, true);
    this.view.setUint16(4, PLAN_VERSION, true);
    this.view.setUint16(6, 0, true);
    this.view.setUint32(8, this.len, true);
    this.view.setUint32(12, this.count, true);
    return { bytes: this.buf.slice(0, this.len), descriptions: [...this.descriptions] };
  }
}
