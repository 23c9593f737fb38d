// The one FFI boundary: every symbol of zig/lib.zig, typed, in one dlopen table, behind plain
// functions that throw FfiError (errno + text). Nothing outside this file imports bun:ffi.
// libsystemd's sd-bus (the systemd cgroup driver's D-Bus client) is a second table, in
// src/ffi-sdbus.ts, opened through openHostLibrary only when a container uses that driver.
// BUNRUNC_FFI_TRACE=1 logs every call with its arguments and result to stderr.
/// <reference path="./embedded-files.d.ts" />
import type * as BunFfi from "bun:ffi";
import { statSync } from "node:fs";
import libPath from "../zig-out/lib/libbunrunc.so" with { type: "file" };
import { strerror } from "./base/errno.ts";
import { PLAN_VERSION } from "./plan/wire.ts";

const ABI_VERSION = 11;
const MSG_SIZE = 512;
const SPAWN_RESULT_SIZE = 16;

// bun:ffi's own FFIType names, as strings: the module itself is loaded on the first call that
// reaches the library (evaluating it costs every process ~0.3-0.5 ms of CPU, and start, state,
// kill and most deletes never call into the library).
const i32 = "i32";
const u32 = "u32";
const u64 = "u64";
const u8 = "u8";
const i16 = "i16";
const P = "ptr";
let bunFfi: typeof BunFfi | undefined;

function ffiModule(): typeof BunFfi {
  bunFfi ??= require("bun:ffi") as typeof BunFfi;
  return bunFfi;
}

function ptr(view: NodeJS.TypedArray | DataView): BunFfi.Pointer {
  return ffiModule().ptr(view);
}

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
  bunrunc_memfd_create: { args: [P], returns: i32 },
  bunrunc_set_nofile_soft: { args: [u64], returns: i32 },
  bunrunc_idmapped_tree: { args: [P, u32, P, u32, P, u32, P], returns: i32 },
  bunrunc_netdev_move: { args: [i32, P, u32, i32, P, u32, P], returns: i32 },
} as const;

type Lib = ReturnType<typeof BunFfi.dlopen<typeof symbols>>["symbols"];
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
  let opened = ffiModule().dlopen(libPath, symbols).symbols;
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

export const LOCK_EX = 2;
export const LOCK_NB = 4;

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

/** An anonymous read-write close-on-exec memory file named `name` (only /proc shows the name). */
export function memfdCreate(name: string): number {
  return ok(load().bunrunc_memfd_create(ptr(cstr(name))), "memfd_create");
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

/** Writes /proc/<pid>/<name> of a child held by `pidfd` through a procfs handle nothing can redirect (zig/lib.zig). */
export function procWrite(pidfd: number, pid: number, name: string, value: string): void {
  const bytes = Buffer.from(value);
  ok(load().bunrunc_proc_write(pidfd, pid, ptr(cstr(name)), ptr(bytes.length ? bytes : Buffer.alloc(1)), bytes.length), `write /proc/${pid}/${name}`);
}

export function dup2(oldFd: number, newFd: number): void {
  ok(load().bunrunc_dup2(oldFd, newFd), `dup2 ${oldFd} ${newFd}`);
}

/**
 * A host library's table opened through bun:ffi (loaded on first use like ours): src/ffi-sdbus.ts
 * opens libsystemd with it, so this file stays the one that imports bun:ffi.
 */
function openHostLibrary<T extends Record<string, BunFfi.FFIFunction>>(name: string, table: T): ReturnType<typeof BunFfi.dlopen<T>>["symbols"] {
  try {
    return ffiModule().dlopen(name, table).symbols;
  } catch (e) {
    throw new Error(`cannot load ${name}: ${(e as Error).message.split("\n")[0]}`);
  }
}

/**
 * For src/ffi-server.ts, src/ffi-tty.ts, src/ffi-devices.ts and src/ffi-sdbus.ts only, call families kept in their own files: the same
 * one table and its checks, the same error type. Nothing else uses it.
 */
/** For the call families (ffi-*.ts); bytesAt: `len` bytes at a native address, a view to copy before it is freed. */
export const boundary = { lib: load, ok, cstr, ptr, openHostLibrary, cstring: (p: number) => new (ffiModule().CString)(p as BunFfi.Pointer).toString(), bytesAt: (p: number, len: number) => ffiModule().toArrayBuffer(p as BunFfi.Pointer, 0, len) };
