// The fast-verbs record, `<root>/<id>/fast-verbs`: what the static front (zig/front_verbs.zig)
// needs to run `start`, `delete`, `kill` and `state` of a simple container without Bun. create
// writes it (src/lib/fast-verbs.ts decides whether the container is simple, and fills it in);
// no record means every verb goes to bunrunc-core, so a record is only ever an invitation.
//
// Layout (little-endian; zig/front_record.zig reads it and must agree):
//   0  u32 magic FAST_MAGIC        4  u16 version         6  u16 flags (FLAG_*)
//   8  u32 size of the whole record (= the file's size)
//  12  i32 init pid (> 0)          16  u64 init start time (/proc/PID/stat field 22, > 0)
//  24  u8 cgroup version (1, 2)    25  u8 freezer kind (FREEZER_*)
//  26  u8 number of cgroup dirs    27  u8 0          28  u32 0
//  32  strings, each u16 length + bytes, no NUL: the freezer file (empty for FREEZER_NONE),
//      each cgroup dir, then `state`'s text before its pid and after its status.
import { unlinkSync } from "node:fs";
import { join } from "node:path";
import { replaceFile } from "./replace-file.ts";

export const FAST_RECORD_NAME = "fast-verbs";
export const FAST_MAGIC = 0x56465242; // "BRFV"
export const FAST_VERSION = 1;
/** The front reads the record into a fixed buffer of this size: a larger one is not written. */
export const FAST_BYTES_MAX = 32 * 1024;
export const FAST_CGROUPS_MAX = 16;
const HEADER_BYTES = 32;
const STRING_BYTES_MAX = 0xffff;

/** The init's own pid namespace: SIGKILL to it ends every process of the container. */
export const FLAG_OWN_PID_NS = 1;

export const FREEZER_NONE = 0;
/** cgroup v1 `freezer.state`: paused unless it reads THAWED. */
export const FREEZER_V1 = 1;
/** cgroup v2 `cgroup.freeze`: paused when it reads 1. */
export const FREEZER_V2 = 2;

export interface FastRecord {
  pid: number;
  startTime: bigint;
  ownPidNs: boolean;
  cgroupVersion: 1 | 2;
  freezerKind: number;
  freezerFile: string;
  cgroupDirs: string[];
  /** `state`'s output up to its pid, and from after its status to its end. */
  stateHead: string;
  stateTail: string;
}

/** The record's bytes, or null when it does not fit the layout (then none is written). */
export function encodeFastRecord(r: FastRecord): Uint8Array | null {
  if (!(r.pid > 0) || r.startTime <= 0n || r.startTime >= 2n ** 64n || r.cgroupDirs.length > FAST_CGROUPS_MAX) return null;
  const strings = [r.freezerFile, ...r.cgroupDirs, r.stateHead, r.stateTail].map((s) => Buffer.from(s));
  if (strings.some((b) => b.length > STRING_BYTES_MAX || b.includes(0))) return null;
  const size = HEADER_BYTES + strings.reduce((n, b) => n + 2 + b.length, 0);
  if (size > FAST_BYTES_MAX) return null;
  const out = Buffer.alloc(size);
  out.writeUInt32LE(FAST_MAGIC, 0);
  out.writeUInt16LE(FAST_VERSION, 4);
  out.writeUInt16LE(r.ownPidNs ? FLAG_OWN_PID_NS : 0, 6);
  out.writeUInt32LE(size, 8);
  out.writeInt32LE(r.pid, 12);
  out.writeBigUInt64LE(r.startTime, 16);
  out.writeUInt8(r.cgroupVersion, 24);
  out.writeUInt8(r.freezerKind, 25);
  out.writeUInt8(r.cgroupDirs.length, 26);
  let at = HEADER_BYTES;
  for (const b of strings) {
    out.writeUInt16LE(b.length, at);
    b.copy(out, at + 2);
    at += 2 + b.length;
  }
  return out;
}

/** Puts the record into the container's directory at once (a unique temp file, renamed), 0600. */
export function writeFastRecord(dir: string, bytes: Uint8Array): void {
  replaceFile(dir, FAST_RECORD_NAME, bytes);
}

/** Removes the record (the verbs then all go to bunrunc-core); nothing when there is none. */
export function removeFastRecord(dir: string): void {
  try {
    unlinkSync(join(dir, FAST_RECORD_NAME));
  } catch {}
}
