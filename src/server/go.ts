// The two records that start a served call (Begin, then the front's Go) and the answers a server
// sends whoever is on the other end: src/server/serve.ts runs the calls.
import * as ffi from "../ffi.ts";
import * as transport from "../ffi-server.ts";
import { provesAccess } from "./admission.ts";
import { beginRecord, decodeAnswer, fallbackRecord, Op } from "./proto.ts";

/** A front answers Begin at once; one that does not is told Fallback and left. */
const GO_WAIT_MS = 200;
export const STDIO = [0, 1, 2];

/**
 * Begin, then the front's Go with its stdio and its proof of access: it is still there and has
 * committed to this server running the call. null: no Go in time or no proof (the front, or
 * whoever holds its connection, runs the call itself).
 */
export function begun(conn: number): number[] | null {
  try {
    transport.msgSend(conn, beginRecord());
    const msg = transport.msgRecv(conn, GO_WAIT_MS, 64);
    const fds = msg?.fds ?? [];
    // Go carries the caller's stdio and its proof that it may inspect this server.
    if (msg && decodeAnswer(msg.bytes)?.op === Op.go && fds.length === STDIO.length + 1 && provesAccess(fds[STDIO.length]!)) {
      ffi.close(fds[STDIO.length]!);
      return fds.slice(0, STDIO.length);
    }
    fds.forEach((fd) => ffi.close(fd));
  } catch {}
  // No Go in time: tell it to run the call itself, in case its Go is on the way.
  sendOrIgnore(conn, fallbackRecord());
  return null;
}

export function refuse(conn: number): void {
  sendOrIgnore(conn, fallbackRecord());
  ffi.close(conn);
}

export function sendOrIgnore(conn: number, record: Uint8Array): void {
  try {
    transport.msgSend(conn, record);
  } catch {} // the front is gone
}
