// The resident server's transport through the FFI boundary (src/ffi.ts holds the one dlopen
// table): its listening socket, polling, SO_PEERPIDFD, SOCK_SEQPACKET records with fds, and the
// caller's stdio put in place. Used by src/server and the front's tests only.
import { boundary } from "./ffi.ts";

const { lib: load, ok, cstr, ptr } = boundary;

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

/** RLIMIT_NOFILE's soft limit, back to `soft` (the resident server: see zig/lib.zig). */
export function setNofileSoft(soft: bigint): void {
  ok(load().bunrunc_set_nofile_soft(soft), "setrlimit RLIMIT_NOFILE");
}
