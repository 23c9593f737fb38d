// The records of zig/proto.zig (the authoritative layouts and the call's sequence), as the
// server reads and writes them. Little-endian, one SOCK_SEQPACKET message each.
export const Op = { fallback: 1, exit: 2, spawn: 3, spawned: 4, wait: 5, begin: 6, go: 7, status: 8, queued: 9 } as const;
export const Kind = { call: 1 } as const;

const MAGIC = 0x31515242;
const REQUEST_SIZE = 24;
const SPAWN_SIZE = 48;
const SPAWNED_SIZE = 16;

export interface Request {
  /** argv[0] included. */
  argv: string[];
  env: Record<string, string>;
}

const decoder = new TextDecoder();

/** null: not a request of this protocol version. */
export function decodeRequest(bytes: Uint8Array): Request | null {
  if (bytes.length < REQUEST_SIZE) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) return null;
  const kind = v.getUint32(4, true);
  const argc = v.getUint32(12, true);
  const envc = v.getUint32(16, true);
  const size = v.getUint32(20, true);
  if (kind !== Kind.call || REQUEST_SIZE + size !== bytes.length) return null;
  const strings = decoder.decode(bytes.subarray(REQUEST_SIZE)).split("\0");
  // Every string ends with a NUL: split leaves one empty string after the last.
  if (strings.length !== argc + envc + 1 || argc < 1) return null;
  const env: Record<string, string> = {};
  for (const kv of strings.slice(argc, argc + envc)) {
    const eq = kv.indexOf("=");
    if (eq > 0) env[kv.slice(0, eq)] ??= kv.slice(eq + 1);
  }
  return { argv: strings.slice(0, argc), env };
}

function record(size: number, fill: (v: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(size);
  fill(new DataView(bytes.buffer));
  return bytes;
}

export const fallbackRecord = () => record(8, (v) => v.setUint32(0, Op.fallback, true));

export const beginRecord = () => record(8, (v) => v.setUint32(0, Op.begin, true));

export const queuedRecord = () => record(8, (v) => v.setUint32(0, Op.queued, true));

/** The front's 8-byte answers: Go (code unused) and Status (the waited process's exit code). null: neither. */
export function decodeAnswer(bytes: Uint8Array): { op: typeof Op.go | typeof Op.status; code: number } | null {
  if (bytes.length !== 8) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const op = v.getUint32(0, true);
  if (op !== Op.go && op !== Op.status) return null;
  return { op, code: v.getInt32(4, true) };
}

export const exitRecord = (code: number) =>
  record(8, (v) => {
    v.setUint32(0, Op.exit, true);
    v.setInt32(4, code, true);
  });

export const waitRecord = (pid: number, callBack: boolean) =>
  record(12, (v) => {
    v.setUint32(0, Op.wait, true);
    v.setInt32(4, pid, true);
    v.setUint32(8, callBack ? 1 : 0, true);
  });

export interface SpawnFields {
  plan: Uint8Array;
  cloneFlags: number;
  keepBelow: number;
  waitForParent: boolean;
  nExtra: number;
  nJoin: number;
  hasCgroupFd: boolean;
  subreaper: boolean;
  holdSignals: boolean;
}

/** The Spawn header with the plan bytes after it. */
export function spawnRecord(s: SpawnFields): Uint8Array {
  const bytes = new Uint8Array(SPAWN_SIZE + s.plan.length);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, Op.spawn, true);
  v.setUint32(4, s.plan.length, true);
  v.setBigUint64(8, BigInt(s.cloneFlags), true);
  v.setUint32(16, s.keepBelow, true);
  v.setUint32(20, s.waitForParent ? 1 : 0, true);
  v.setUint32(24, s.nExtra, true);
  v.setUint32(28, s.nJoin, true);
  v.setUint32(32, s.hasCgroupFd ? 1 : 0, true);
  v.setUint32(36, s.subreaper ? 1 : 0, true);
  v.setUint32(40, s.holdSignals ? 1 : 0, true);
  bytes.set(s.plan, SPAWN_SIZE);
  return bytes;
}

/** null: not a Spawned record. */
export function decodeSpawned(bytes: Uint8Array): { rc: number; step: number; pid: number } | null {
  if (bytes.length !== SPAWNED_SIZE) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== Op.spawned) return null;
  return { rc: v.getInt32(4, true), step: v.getInt32(8, true), pid: v.getInt32(12, true) };
}
