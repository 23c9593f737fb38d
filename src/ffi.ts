// The one FFI boundary: every symbol of zig/lib.zig, typed, in one dlopen table, behind plain
// functions that throw FfiError (errno + text). Nothing outside this file imports bun:ffi.
// libsystemd's sd-bus (the systemd cgroup driver's D-Bus client) is a second table at the end,
// opened only when a container uses that driver.
// BUNRUNC_FFI_TRACE=1 logs every call with its arguments and result to stderr.
import { CString, dlopen, FFIType, ptr, type Pointer } from "bun:ffi";
import { statSync } from "node:fs";
import libPath from "../zig-out/lib/libbunrunc.so" with { type: "file" };
import { strerror } from "./lib/errno.ts";
import { PLAN_VERSION } from "./plan/wire.ts";

const ABI_VERSION = 9;
const MSG_SIZE = 512;
const SPAWN_RESULT_SIZE = 16;

const { i32, u32, u64, u8, i8, i16, ptr: P } = FFIType;

const symbols = {
  bunrunc_abi_version: { args: [], returns: u32 },
  bunrunc_plan_version: { args: [], returns: u32 },
  bunrunc_msg_size: { args: [], returns: u32 },
  bunrunc_init_size: { args: [], returns: u32 },
  bunrunc_spawn: { args: [P, u32, u64, u32, P, u32, u32, i32, P, u32, P], returns: i32 },
  bunrunc_sync_recv: { args: [i32, P, i32], returns: i32 },
  bunrunc_sync_send: { args: [i32, u8], returns: i32 },
  bunrunc_pidfd_open: { args: [i32], returns: i32 },
  bunrunc_pidfd_send_signal: { args: [i32, i32], returns: i32 },
  bunrunc_wait_pidfd: { args: [i32, u32, P], returns: i32 },
  bunrunc_poll_fd: { args: [i32, i16, i32], returns: i32 },
  bunrunc_close: { args: [i32], returns: i32 },
  bunrunc_mkfifo: { args: [P, u32], returns: i32 },
  bunrunc_umount_detach: { args: [P], returns: i32 },
  bunrunc_unix_connect: { args: [P], returns: i32 },
  bunrunc_flock: { args: [i32, i32], returns: i32 },
  bunrunc_set_child_subreaper: { args: [], returns: i32 },
  bunrunc_socketpair: { args: [P], returns: i32 },
  bunrunc_recv_fd: { args: [i32, i32, P, u32, P], returns: i32 },
  bunrunc_send_fd: { args: [i32, i32, P, u32], returns: i32 },
  bunrunc_open_pty: { args: [P, P], returns: i32 },
  bunrunc_get_winsize: { args: [i32, P], returns: i32 },
  bunrunc_set_winsize: { args: [i32, u32, u32], returns: i32 },
  bunrunc_tty_raw: { args: [i32, P], returns: i32 },
  bunrunc_tty_restore: { args: [i32, P], returns: i32 },
  bunrunc_cg_devices_attach: { args: [P, P, u32, u32, P], returns: i32 },
  bunrunc_cg_devices_count: { args: [P], returns: i32 },
  bunrunc_eventfd: { args: [], returns: i32 },
  bunrunc_seccomp_compile: { args: [P, u32, P, u32, P, u32, P], returns: i32 },
  bunrunc_seccomp_probe: { args: [], returns: u32 },
  bunrunc_server_listen: { args: [P], returns: i32 },
  bunrunc_server_accept: { args: [i32, i32], returns: i32 },
  bunrunc_msg_recv: { args: [i32, i32, P, u32, P, u32, P], returns: i32 },
  bunrunc_msg_send: { args: [i32, P, u32, P, u32], returns: i32 },
  bunrunc_peer_pidfd: { args: [i32], returns: i32 },
  bunrunc_poll_many: { args: [P, u32, P, i32], returns: i32 },
  bunrunc_set_cloexec: { args: [i32], returns: i32 },
  bunrunc_proc_write: { args: [i32, i32, P, P, u32], returns: i32 },
  bunrunc_dup2: { args: [i32, i32], returns: i32 },
  bunrunc_idmapped_tree: { args: [P, u32, P, u32, P, u32, P], returns: i32 },
  bunrunc_netdev_move: { args: [i32, P, u32, i32, P, u32, P], returns: i32 },
} as const;

type Lib = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
let lib: Lib | undefined;

/** A failed call: `errno` is the kernel's, `message` reads "<what>: <strerror>". */
export class FfiError extends Error {
  constructor(
    readonly errno: number,
    what: string,
  ) {
    super(`${what}: ${strerror(errno)}`);
  }
}

function load(): Lib {
  if (lib) return lib;
  let opened = dlopen(libPath, symbols).symbols;
  const abi = opened.bunrunc_abi_version();
  if (abi !== ABI_VERSION) throw new Error(`libbunrunc ABI ${abi} does not match bunrunc's ${ABI_VERSION}; rebuild`);
  if (opened.bunrunc_plan_version() !== PLAN_VERSION) throw new Error("libbunrunc's plan version does not match src/plan/wire.ts; rebuild");
  if (opened.bunrunc_msg_size() !== MSG_SIZE) throw new Error("libbunrunc's sync record size does not match src/ffi.ts; rebuild");
  if (process.env.BUNRUNC_FFI_TRACE) opened = traced(opened);
  lib = opened;
  return lib;
}

function traced(l: Lib): Lib {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(l)) {
    out[name] = (...args: unknown[]) => {
      const r = (fn as (...a: unknown[]) => unknown)(...args);
      process.stderr.write(`ffi ${name}(${args.map((a) => (typeof a === "object" ? "<buf>" : String(a))).join(", ")}) = ${r}\n`);
      return r;
    };
  }
  return out as Lib;
}

function ok(rc: number, what: string): number {
  if (rc < 0) throw new FfiError(-rc, what);
  return rc;
}

const cstr = (s: string) => Buffer.from(`${s}\0`);

export function initSize(): number {
  return load().bunrunc_init_size();
}

export interface SpawnRequest {
  plan: Uint8Array;
  cloneFlags: number;
  /** fd of the container's cgroup directory (v2): clone3 CLONE_INTO_CGROUP. */
  cgroupFd?: number;
  /** 3 + the number of kept fds (--preserve-fds, LISTEN_FDS). */
  keepFdsBelow?: number;
  /** Our fds to hand to the init, numbered from keepFdsBelow on, in order. */
  extraFds?: number[];
  /** The child waits for one byte on the sync socket before it execs the init (user ns maps). */
  waitForParent?: boolean;
  /**
   * cgroup v1 `tasks` files (O_WRONLY): the child moves itself into each before anything else,
   * which is far cheaper than the parent writing its pid to cgroup.procs (zig/spawn.zig).
   */
  cgroupJoinFds?: number[];
}

export interface Spawned {
  pid: number;
  pidfd: number;
  syncFd: number;
}

const SPAWN_STEPS = ["", "seal the plan into a memfd", "seal bunrunc-init into a memfd", "create the sync socket", "clone3", "check the spawn arguments"];

export function spawn(req: SpawnRequest): Spawned {
  const out = new Int32Array(SPAWN_RESULT_SIZE / 4);
  const extra = new Int32Array(req.extraFds ?? []);
  const extraPtr = extra.length ? ptr(extra) : ptr(new Int32Array(1));
  const join = new Int32Array(req.cgroupJoinFds ?? []);
  const joinPtr = join.length ? ptr(join) : ptr(new Int32Array(1));
  const rc = load().bunrunc_spawn(ptr(req.plan), req.plan.length, BigInt(req.cloneFlags), req.keepFdsBelow ?? 3, extraPtr, extra.length, req.waitForParent ? 1 : 0, req.cgroupFd ?? -1, joinPtr, join.length, ptr(out));
  if (rc < 0) throw spawnError(-rc, out[3]!);
  return { pid: out[0]!, pidfd: out[1]!, syncFd: out[2]! };
}

/** A failed spawn, here or in a front process (zig/spawn.zig Step names the failed step). */
export function spawnError(errno: number, step: number): FfiError {
  return new FfiError(errno, SPAWN_STEPS[step] ?? "spawn");
}

export interface SyncMsg {
  kind: number;
  opIndex: number;
  errno: number;
  pid: number;
  text: string;
}

const decoder = new TextDecoder();

/** One record from the init; EOF (the init died without a word) is an error. */
export function syncRecv(fd: number, timeoutMs: number): SyncMsg {
  const msg = syncRecvOrClosed(fd, timeoutMs);
  if (!msg) throw new Error("the init exited without reporting");
  return msg;
}

/** Like syncRecv, but EOF is null: exec's success is the init's exec closing the socket. */
export function syncRecvOrClosed(fd: number, timeoutMs: number): SyncMsg | null {
  const buf = new Uint8Array(MSG_SIZE);
  const n = load().bunrunc_sync_recv(fd, ptr(buf), timeoutMs);
  if (n === 0) return null;
  ok(n, "receive from the init");
  const v = new DataView(buf.buffer);
  const text = buf.subarray(16);
  const end = text.indexOf(0);
  return { kind: v.getUint32(0, true), opIndex: v.getUint32(4, true), errno: v.getInt32(8, true), pid: v.getInt32(12, true), text: decoder.decode(end < 0 ? text : text.subarray(0, end)) };
}

export function syncSend(fd: number, byte: number): void {
  ok(load().bunrunc_sync_send(fd, byte), "answer the init");
}

export function pidfdOpen(pid: number): number {
  return ok(load().bunrunc_pidfd_open(pid), `pidfd_open ${pid}`);
}

export function pidfdSendSignal(pidfd: number, sig: number): void {
  ok(load().bunrunc_pidfd_send_signal(pidfd, sig), `signal ${sig}`);
}

/** Reaps the pidfd's process (our child). null with nohang while it still runs. */
export function waitPidfd(pidfd: number, nohang = false): { exited: boolean; status: number; signal?: number } | null {
  const out = new Int32Array(3);
  ok(load().bunrunc_wait_pidfd(pidfd, nohang ? 1 : 0, ptr(out)), "waitid");
  if (!out[0]) return null;
  return out[2] ? { exited: true, status: 128 + out[2]!, signal: out[2]! } : { exited: true, status: out[1]! };
}

/** poll(2) on one fd: the revents, 0 on timeout. */
export function pollFd(fd: number, events: number, timeoutMs: number): number {
  return ok(load().bunrunc_poll_fd(fd, events, timeoutMs), "poll");
}

export function close(fd: number): void {
  load().bunrunc_close(fd);
}

export function mkfifo(path: string, mode: number): void {
  ok(load().bunrunc_mkfifo(ptr(cstr(path)), mode), `mkfifo ${path}`);
}

const IDMAP_STEPS = ["", "make a user namespace for the mapping", "write its uid_map", "write its gid_map", "open_tree", "mount_setattr MOUNT_ATTR_IDMAP"];

/**
 * A detached clone of `source` (with its submounts: recursive.clone; those idmapped too:
 * recursive.idmap), idmapped through a user
 * namespace with these /proc/PID/uid_map-format maps: the fd the init attaches (zig/idmap.zig).
 */
export function idmappedTree(source: string, recursive: { clone: boolean; idmap: boolean }, uidMap: string, gidMap: string): number {
  const step = new Int32Array(1);
  const u = Buffer.from(uidMap);
  const g = Buffer.from(gidMap);
  const rc = load().bunrunc_idmapped_tree(ptr(cstr(source)), (recursive.clone ? 1 : 0) | (recursive.idmap ? 2 : 0), ptr(u), u.length, ptr(g), g.length, ptr(step));
  return ok(rc, IDMAP_STEPS[step[0]!] ?? "idmap");
}

const NETDEV_STEPS = ["", "enter its network namespace", "open a netlink socket", "find the interface", "read its addresses", "move it", "enter the target network namespace", "add its addresses back", "set it up"];

/** Moves interface `name` (seen from netns fd `fromNs`, -1: ours) into netns `toNs` as `newName`, addresses and up state kept. */
export function netdevMove(fromNs: number, name: string, toNs: number, newName: string): void {
  const step = new Int32Array(1);
  const n = Buffer.from(name);
  const m = Buffer.from(newName);
  const rc = load().bunrunc_netdev_move(fromNs, ptr(n), n.length, toNs, ptr(m), m.length, ptr(step));
  ok(rc, NETDEV_STEPS[step[0]!] ?? "move");
}

/** umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW): the topmost mount at path, with its submounts. */
export function umountDetach(path: string): void {
  ok(load().bunrunc_umount_detach(ptr(cstr(path))), `unmount ${path}`);
}

export function unixConnect(path: string): number {
  return ok(load().bunrunc_unix_connect(ptr(cstr(path))), `connect ${path}`);
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export function flock(fd: number, op: number): void {
  ok(load().bunrunc_flock(fd, op), "flock");
}

export function setChildSubreaper(): void {
  ok(load().bunrunc_set_child_subreaper(), "prctl(PR_SET_CHILD_SUBREAPER)");
}

/** A connected, close-on-exec AF_UNIX stream pair (a foreground terminal's console socket). */
export function socketpair(): [number, number] {
  const out = new Int32Array(2);
  ok(load().bunrunc_socketpair(ptr(out)), "socketpair");
  return [out[0]!, out[1]!];
}

/** One fd received with SCM_RIGHTS (close-on-exec) and the message text sent with it. */
export function recvFd(sock: number, timeoutMs: number): { fd: number; name: string } {
  const name = new Uint8Array(256);
  const len = new Uint32Array(1);
  const fd = ok(load().bunrunc_recv_fd(sock, timeoutMs, ptr(name), name.length, ptr(len)), "receive an fd");
  return { fd, name: decoder.decode(name.subarray(0, len[0]!)) };
}

export function sendFd(sock: number, fd: number, name: string): void {
  const bytes = Buffer.from(name);
  ok(load().bunrunc_send_fd(sock, fd, ptr(bytes), bytes.length), "send an fd");
}

/** A new pty from `ptmx`: master and slave fds (close-on-exec) and its number. */
export function openPty(ptmx: string): { master: number; slave: number; number: number } {
  const out = new Int32Array(3);
  ok(load().bunrunc_open_pty(ptr(cstr(ptmx)), ptr(out)), `open a pty from ${ptmx}`);
  return { master: out[0]!, slave: out[1]!, number: out[2]! };
}

export function getWinsize(fd: number): { rows: number; cols: number } {
  const out = new Uint16Array(2);
  ok(load().bunrunc_get_winsize(fd, ptr(out)), "TIOCGWINSZ");
  return { rows: out[0]!, cols: out[1]! };
}

export function setWinsize(fd: number, rows: number, cols: number): void {
  ok(load().bunrunc_set_winsize(fd, rows, cols), "TIOCSWINSZ");
}

const SAVED_TERMIOS_SIZE = 64;

/** Raw mode on the terminal at fd; returns the settings restoreTty puts back. */
export function makeRaw(fd: number): Uint8Array {
  const saved = new Uint8Array(SAVED_TERMIOS_SIZE);
  ok(load().bunrunc_tty_raw(fd, ptr(saved)), "set the terminal to raw mode");
  return saved;
}

export function restoreTty(fd: number, saved: Uint8Array): void {
  ok(load().bunrunc_tty_restore(fd, ptr(saved)), "restore the terminal");
}

const DEVICE_STAGES = ["", "check the device rules", "open the cgroup", "query its device programs", "load the device program", "attach the device program", "detach the previous device program"];

/**
 * cgroup v2 device filter (zig/cgroups/devices.zig): `rules` is 12 bytes per exception
 * {type u8, access u8, flags u8, 0, major u32, minor u32}; attaches it to the cgroup dir and
 * detaches the programs that were there before.
 */
export function cgroupDevicesAttach(dir: string, rules: Uint8Array, defaultAllow: boolean): void {
  const stage = new Uint32Array(1);
  const count = rules.length / 12;
  const rc = load().bunrunc_cg_devices_attach(ptr(cstr(dir)), ptr(rules.length ? rules : new Uint8Array(12)), count, defaultAllow ? 1 : 0, ptr(stage));
  if (rc < 0) throw new FfiError(-rc, `${DEVICE_STAGES[stage[0]!] ?? "device filter"} (${dir})`);
}

/** How many device programs are attached to the cgroup dir. */
export function cgroupDevicesCount(dir: string): number {
  return ok(load().bunrunc_cg_devices_count(ptr(cstr(dir))), `query device programs of ${dir}`);
}

/** A non-blocking close-on-exec eventfd (cgroup v1 OOM notifications). */
export function eventfd(): number {
  return ok(load().bunrunc_eventfd(), "eventfd");
}

/** zig/seccomp/compile.zig Report: 5 u32 fields, then up to 256 unknown-name rule indexes. */
const SECCOMP_REPORT_UNKNOWN_MAX = 256;
const SECCOMP_MAX_INSNS = 4096;
let seccompOut: Uint8Array | undefined;
let seccompScratch = new Uint8Array(0);

export interface SeccompProgram {
  /** struct sock_filter[], 8 bytes each. */
  program: Uint8Array;
  longestPath: number;
  plainLongestPath: number;
  /** Indexes of input rules whose syscall name no architecture of the filter knows (first 256). */
  unknownRules: number[];
  unknownCount: number;
}

/** A failed seccomp compile; `rule` is the input rule a bad-input error is about. */
export class SeccompCompileError extends FfiError {
  constructor(
    errno: number,
    readonly rule: number | undefined,
  ) {
    super(errno, "compile the seccomp filter");
  }
}

/**
 * Compiles zig/seccomp/input.zig's description into BPF. The output and working buffers are
 * reused; the scratch buffer doubles when the compiler says it is too small.
 */
export function seccompCompile(input: Uint8Array): SeccompProgram {
  seccompOut ??= new Uint8Array(SECCOMP_MAX_INSNS * 8);
  const report = new Uint32Array(5 + SECCOMP_REPORT_UNKNOWN_MAX);
  if (seccompScratch.length < 64 * input.length) seccompScratch = new Uint8Array(Math.max(256 * 1024, 64 * input.length));
  for (;;) {
    const rc = load().bunrunc_seccomp_compile(ptr(input), input.length, ptr(seccompOut), SECCOMP_MAX_INSNS, ptr(seccompScratch), seccompScratch.length, ptr(report));
    if (rc === -12 && seccompScratch.length < 256 * 1024 * 1024) {
      seccompScratch = new Uint8Array(seccompScratch.length * 2);
      continue;
    }
    if (rc < 0) throw new SeccompCompileError(-rc, report[3] === 0xffffffff ? undefined : report[3]);
    const unknown = Array.from(report.subarray(5, 5 + Math.min(report[4]!, SECCOMP_REPORT_UNKNOWN_MAX)));
    return { program: seccompOut.slice(0, rc * 8), longestPath: report[1]!, plainLongestPath: report[2]!, unknownRules: unknown, unknownCount: report[4]! };
  }
}

/** Changes whenever the library does (its path embeds a content hash in a compiled bunrunc). */
export function libraryIdentity(): string {
  try {
    const st = statSync(libPath);
    return `${libPath}:${st.size}:${st.mtimeMs}`;
  } catch {
    return libPath;
  }
}

/** zig/seccomp/probe.zig: bits 0-7 accepted SECCOMP_FILTER_FLAG_*, bits 16-23 available actions. */
export function seccompProbe(): number {
  return load().bunrunc_seccomp_probe();
}

const ETIMEDOUT = 110;

/** The resident server's listening socket (src/server): SOCK_SEQPACKET, a 0600 file at `path`. */
export function serverListen(path: string): number {
  return ok(load().bunrunc_server_listen(ptr(cstr(path))), `listen on ${path}`);
}

/** Which of `fds` have input or a hangup, waiting at most timeoutMs for the first. */
export function pollMany(fds: readonly number[], timeoutMs: number): boolean[] {
  const f = new Int32Array(Math.max(fds.length, 1));
  f.set(fds);
  const ready = new Uint8Array(Math.max(fds.length, 1));
  ok(load().bunrunc_poll_many(ptr(f), fds.length, ptr(ready), timeoutMs), "poll");
  return Array.from(ready.subarray(0, fds.length), (r) => r !== 0);
}

/** SO_PEERPIDFD: the connecting process as a pidfd (Linux 6.5+; older kernels throw ENOPROTOOPT). */
export function peerPidfd(sock: number): number {
  return ok(load().bunrunc_peer_pidfd(sock), "SO_PEERPIDFD");
}

/** Writes /proc/<pid>/<name> of a child held by `pidfd` through a procfs handle nothing can redirect (zig/lib.zig). */
export function procWrite(pidfd: number, pid: number, name: string, value: string): void {
  const bytes = Buffer.from(value);
  ok(load().bunrunc_proc_write(pidfd, pid, ptr(cstr(name)), ptr(bytes.length ? bytes : Buffer.alloc(1)), bytes.length), `write /proc/${pid}/${name}`);
}

export function setCloexec(fd: number): void {
  ok(load().bunrunc_set_cloexec(fd), "FD_CLOEXEC");
}

/** The next connection, or null after timeoutMs without one. */
export function serverAccept(listener: number, timeoutMs: number): number | null {
  const rc = load().bunrunc_server_accept(listener, timeoutMs);
  if (rc === -ETIMEDOUT) return null;
  return ok(rc, "accept");
}

const MSG_FDS_MAX = 64;

/** Receive buffers, kept between calls: the server would otherwise zero megabytes per request. */
let msgBuf = new Uint8Array(0);
const msgFds = new Int32Array(MSG_FDS_MAX);
const msgNfds = new Uint32Array(1);

/**
 * One SOCK_SEQPACKET message of at most `capacity` bytes and the fds that came with it
 * (close-on-exec); null when the peer closed. The bytes are a copy the caller may keep.
 */
export function msgRecv(sock: number, timeoutMs: number, capacity: number): { bytes: Uint8Array; fds: number[] } | null {
  if (msgBuf.length < capacity) msgBuf = new Uint8Array(capacity);
  const n = ok(load().bunrunc_msg_recv(sock, timeoutMs, ptr(msgBuf), capacity, ptr(msgFds), MSG_FDS_MAX, ptr(msgNfds)), "receive a message");
  if (n === 0 && msgNfds[0] === 0) return null;
  return { bytes: msgBuf.slice(0, n), fds: Array.from(msgFds.subarray(0, msgNfds[0]!)) };
}

export function msgSend(sock: number, bytes: Uint8Array, fds: readonly number[] = []): void {
  const f = new Int32Array(fds.length || 1);
  f.set(fds);
  ok(load().bunrunc_msg_send(sock, ptr(bytes), bytes.length, ptr(f), fds.length), "send a message");
}

export function dup2(oldFd: number, newFd: number): void {
  ok(load().bunrunc_dup2(oldFd, newFd), `dup2 ${oldFd} ${newFd}`);
}

// ---- libsystemd's sd-bus, for the systemd cgroup driver (src/cgroups/systemd/bus.ts) --------
// Loaded at run time from the host (every systemd host has libsystemd.so.0), and only by a call
// that uses --systemd-cgroup. Only the non-variadic builders and readers: bun:ffi cannot call
// C variadics (sd_bus_message_append, sd_bus_call_method) reliably.

const sdSymbols = {
  sd_bus_new: { args: [P], returns: i32 },
  sd_bus_set_address: { args: [P, P], returns: i32 },
  sd_bus_start: { args: [P], returns: i32 },
  sd_bus_open_system: { args: [P], returns: i32 },
  sd_bus_flush_close_unref: { args: [P], returns: P },
  sd_bus_message_new_method_call: { args: [P, P, P, P, P, P], returns: i32 },
  sd_bus_message_append_basic: { args: [P, i8, P], returns: i32 },
  sd_bus_message_append_array: { args: [P, i8, P, u64], returns: i32 },
  sd_bus_message_open_container: { args: [P, i8, P], returns: i32 },
  sd_bus_message_close_container: { args: [P], returns: i32 },
  sd_bus_message_enter_container: { args: [P, i8, P], returns: i32 },
  sd_bus_message_exit_container: { args: [P], returns: i32 },
  sd_bus_message_read_basic: { args: [P, i8, P], returns: i32 },
  sd_bus_message_is_signal: { args: [P, P, P], returns: i32 },
  sd_bus_message_unref: { args: [P], returns: P },
  sd_bus_call: { args: [P, P, u64, P, P], returns: i32 },
  sd_bus_add_match: { args: [P, P, P, P, P], returns: i32 },
  sd_bus_process: { args: [P, P], returns: i32 },
  sd_bus_wait: { args: [P, u64], returns: i32 },
  sd_bus_error_free: { args: [P], returns: FFIType.void },
} as const;

type SdLib = ReturnType<typeof dlopen<typeof sdSymbols>>["symbols"];
let sd: SdLib | undefined;
const LIBSYSTEMD = "libsystemd.so.0";

function loadSd(): SdLib {
  if (sd) return sd;
  try {
    sd = dlopen(LIBSYSTEMD, sdSymbols).symbols;
  } catch (e) {
    throw new Error(`cannot load ${LIBSYSTEMD}: ${(e as Error).message.split("\n")[0]}`);
  }
  return sd;
}

/** A D-Bus error reply (name + text), or a local failure (name "", the errno's text). */
export class SdBusError extends Error {
  constructor(
    readonly errno: number,
    readonly busName: string,
    text: string,
  ) {
    super(busName ? `${busName}: ${text}` : text);
  }
}

const handleOut = () => new BigUint64Array(1);
const handle = (out: BigUint64Array) => Number(out[0]!);
/** A handle (sd_bus *, sd_bus_message *) as bun:ffi takes a pointer. */
const H = (h: number) => h as Pointer;
const code = (c: string) => c.charCodeAt(0);

function sdOk(rc: number, what: string): number {
  if (rc < 0) throw new SdBusError(-rc, "", `${what}: ${strerror(-rc)}`);
  return rc;
}

/** sd-bus as the driver uses it: handles are plain numbers; every failure throws SdBusError. */
export const sdbus = {
  /** A started connection: to `address` ("unix:path=..."), or the system bus when absent. */
  open(address?: string): number {
    const l = loadSd();
    const out = handleOut();
    if (!address) {
      sdOk(l.sd_bus_open_system(ptr(out)), "connect to the system bus");
      return handle(out);
    }
    sdOk(l.sd_bus_new(ptr(out)), "sd_bus_new");
    const bus = handle(out);
    try {
      sdOk(l.sd_bus_set_address(H(bus), ptr(cstr(address))), `connect to ${address}`);
      sdOk(l.sd_bus_start(H(bus)), `connect to ${address}`);
    } catch (e) {
      l.sd_bus_flush_close_unref(H(bus));
      throw e;
    }
    return bus;
  },
  close(bus: number): void {
    loadSd().sd_bus_flush_close_unref(H(bus));
  },
  methodCall(bus: number, dest: string, path: string, iface: string, member: string): number {
    const out = handleOut();
    sdOk(loadSd().sd_bus_message_new_method_call(H(bus), ptr(out), ptr(cstr(dest)), ptr(cstr(path)), ptr(cstr(iface)), ptr(cstr(member))), `new call ${member}`);
    return handle(out);
  },
  /** One basic value: "s"/"o"/"g" strings, "b"/"i"/"u" 32-bit, "t"/"x" 64-bit, "y" a byte. */
  appendBasic(m: number, type: string, v: string | number | bigint | boolean): void {
    let p: ReturnType<typeof ptr>;
    if (type === "s" || type === "o" || type === "g") p = ptr(cstr(String(v)));
    else if (type === "t" || type === "x") p = ptr(new BigUint64Array([BigInt.asUintN(64, BigInt(v as number | bigint))]));
    else if (type === "y") p = ptr(new Uint8Array([Number(v)]));
    else p = ptr(new Uint32Array([Number(typeof v === "boolean" ? (v ? 1 : 0) : v) >>> 0]));
    sdOk(loadSd().sd_bus_message_append_basic(H(m), code(type), p), `append ${type}`);
  },
  /** An array of fixed-size elements in one go ("ay" bytes). */
  appendArray(m: number, type: string, bytes: Uint8Array): void {
    sdOk(loadSd().sd_bus_message_append_array(H(m), code(type), ptr(bytes.length ? bytes : new Uint8Array(1)), bytes.length), `append a${type}`);
  },
  openContainer(m: number, type: string, contents: string): void {
    sdOk(loadSd().sd_bus_message_open_container(H(m), code(type), ptr(cstr(contents))), `open ${type}${contents}`);
  },
  closeContainer(m: number): void {
    sdOk(loadSd().sd_bus_message_close_container(H(m)), "close a container");
  },
  /** Enters a container of the reply; false at its end. */
  enterContainer(m: number, type: string, contents: string): boolean {
    return sdOk(loadSd().sd_bus_message_enter_container(H(m), code(type), ptr(cstr(contents))), `read ${type}${contents}`) > 0;
  },
  exitContainer(m: number): void {
    sdOk(loadSd().sd_bus_message_exit_container(H(m)), "leave a container");
  },
  /** The next basic value of a message: strings as strings, "u" as a number. */
  readString(m: number, type: "s" | "o"): string {
    const out = handleOut();
    sdOk(loadSd().sd_bus_message_read_basic(H(m), code(type), ptr(out)), `read ${type}`);
    return new CString(H(handle(out))).toString();
  },
  readU32(m: number): number {
    const out = new Uint32Array(1);
    sdOk(loadSd().sd_bus_message_read_basic(H(m), code("u"), ptr(out)), "read u");
    return out[0]!;
  },
  isSignal(m: number, iface: string, member: string): boolean {
    return loadSd().sd_bus_message_is_signal(H(m), ptr(cstr(iface)), ptr(cstr(member))) > 0;
  },
  unref(m: number): void {
    if (m) loadSd().sd_bus_message_unref(H(m));
  },
  /** Sends `m` (consumed) and waits for the reply; an error reply throws with its D-Bus name. */
  call(bus: number, m: number, timeoutUs: number): number {
    const l = loadSd();
    const err = new BigUint64Array(3);
    const out = handleOut();
    try {
      const rc = l.sd_bus_call(H(bus), H(m), BigInt(timeoutUs), ptr(err), ptr(out));
      if (rc < 0) {
        const name = err[0] ? new CString(H(Number(err[0]))).toString() : "";
        const text = err[1] ? new CString(H(Number(err[1]))).toString() : strerror(-rc);
        throw new SdBusError(-rc, name, text);
      }
      return handle(out);
    } finally {
      l.sd_bus_error_free(ptr(err));
      l.sd_bus_message_unref(H(m));
    }
  },
  /** A match rule with no callback: matching messages come back from process(). */
  addMatch(bus: number, rule: string): void {
    sdOk(loadSd().sd_bus_add_match(H(bus), null, ptr(cstr(rule)), null, null), "add a match");
  },
  /** One step of the connection: whether more is queued, and an unhandled message (or 0). */
  process(bus: number): { more: boolean; message: number } {
    const out = handleOut();
    const rc = sdOk(loadSd().sd_bus_process(H(bus), ptr(out)), "read from the bus");
    return { more: rc > 0, message: handle(out) };
  },
  wait(bus: number, timeoutUs: number): void {
    sdOk(loadSd().sd_bus_wait(H(bus), BigInt(timeoutUs)), "wait on the bus");
  },
};
