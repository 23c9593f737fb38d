// A checked Profile -> the compact binary the Zig compiler reads. The layout is documented once,
// in zig/seccomp/input.zig; this is its only writer. Little-endian, no padding.
import { ARCHS, MAX_NAME_LEN, RET, type Profile } from "./profile.ts";

const MAGIC = 0x43535242; // "BRSC"
const VERSION = 1;
const HEADER_LEN = 36;
const ARG_LEN = 20;
const OPTION_ENOSYS_STUB = 1;
/** libseccomp's default for an architecture the filter does not list (runc keeps it). */
const BAD_ARCH_ACTION = RET.KILL_THREAD;

export interface Encoded {
  bytes: Uint8Array;
  /** The profile rule each wire rule came from (names longer than the wire allows are left out). */
  rules: Profile["rules"];
  /** Rules left out because no syscall has such a name (too long, not ASCII). */
  unnamable: Profile["rules"];
}

/** Syscall names are ASCII; anything else cannot name a syscall and is reported as unknown. */
function asciiLength(name: string): number {
  if (name.length > MAX_NAME_LEN) return -1;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0x7e) return -1;
  return name.length;
}

export function encodeProfile(p: Profile, native: keyof typeof ARCHS): Encoded {
  const rules: Profile["rules"] = [];
  const unnamable: Profile["rules"] = [];
  let len = HEADER_LEN;
  for (const r of p.rules) {
    const n = asciiLength(r.name);
    if (n <= 0) {
      unnamable.push(r);
      continue;
    }
    rules.push(r);
    len += 6 + n + r.args.length * ARG_LEN;
  }
  const bytes = new Uint8Array(len);
  const dv = new DataView(bytes.buffer);
  let archMask = 0;
  for (const a of p.archs) archMask |= 1 << ARCHS[a];
  const header = [MAGIC, 0, len, p.defaultAction, archMask, ARCHS[native], p.enosysStub ? OPTION_ENOSYS_STUB : 0, BAD_ARCH_ACTION, rules.length];
  dv.setUint32(0, header[0]!, true);
  dv.setUint16(4, VERSION, true);
  dv.setUint16(6, 0, true);
  header.slice(2).forEach((v, i) => dv.setUint32(8 + 4 * i, v >>> 0, true));
  let at = HEADER_LEN;
  for (const r of rules) {
    const name = r.name;
    dv.setUint32(at, r.action >>> 0, true);
    bytes[at + 4] = name.length;
    bytes[at + 5] = r.args.length;
    for (let c = 0; c < name.length; c++) bytes[at + 6 + c] = name.charCodeAt(c);
    at += 6 + name.length;
    for (const a of r.args) {
      bytes[at] = a.index;
      bytes[at + 1] = a.op;
      dv.setBigUint64(at + 4, a.value, true);
      dv.setBigUint64(at + 12, a.valueTwo, true);
      at += ARG_LEN;
    }
  }
  return { bytes, rules, unnamable };
}
