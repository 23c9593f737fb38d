// SCMP_ACT_NOTIFY: hands the filter's listener fd to the agent at linux.seccomp.listenerPath,
// with the container process state (runtime-spec config-linux.md "Container Process State").
//
// The init's side (zig/init/proc.zig `seccomp`): right after loading the filter it sends a WAIT
// record tagged WaitTag.Seccomp, then one record carrying the fd (SCM_RIGHTS), then blocks for
// the usual one-byte ack. Here: take the fd, connect to listenerPath (AF_UNIX stream), send the
// state JSON with the fd attached in one sendmsg, close our copies; create acks afterwards, so
// the container goes on only once the agent holds the fd (as runc's procSeccompDone).
import { close, recvFd, sendFd, unixConnect } from "../ffi.ts";

export interface ListenerTarget {
  listenerPath: string;
  listenerMetadata?: string;
  /** The container's state as hooks see it ({ociVersion, id, status, pid, bundle, annotations?}). */
  state: { ociVersion: string; pid: number } & Record<string, unknown>;
  /** The process the filter applies to, when it is not the container's (an exec'd one). */
  pid?: number;
}

/** What the agent reads: one JSON object, the listener fd attached to its first byte. */
export function containerProcessState(t: ListenerTarget): string {
  const s: Record<string, unknown> = { ociVersion: t.state.ociVersion, fds: ["seccompFd"], pid: t.pid ?? t.state.pid };
  if (t.listenerMetadata) s.metadata = t.listenerMetadata;
  s.state = t.state;
  return JSON.stringify(s);
}

/** Receives the listener fd from the init on `syncFd` and passes it on; throws "<step>: <cause>". */
export function handOverListener(syncFd: number, timeoutMs: number, t: ListenerTarget): void {
  const { fd } = recvFd(syncFd, timeoutMs);
  try {
    const sock = unixConnect(t.listenerPath);
    try {
      sendFd(sock, fd, containerProcessState(t));
    } finally {
      close(sock);
    }
  } finally {
    close(fd);
  }
}
