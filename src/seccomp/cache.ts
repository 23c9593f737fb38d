// Compiled filters by profile hash, on disk under the state root (`<root>/@seccomp-cache/`; "@"
// cannot start a container id, so it never collides with a container's state dir).
// The key covers everything the program depends on: the profile's JSON, the machine's
// architecture, what the kernel supports, and the library that compiled it. A file is written
// to a temp name and renamed (readers never see half a file) and is used only if its header,
// its length and the SHA-256 of its program all check out; anything else is a miss.
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { libraryIdentity } from "../ffi.ts";
import { probeMask } from "./kernel.ts";

export interface CachedFilter {
  /** SECCOMP_FILTER_FLAG_* for seccomp(2). */
  flags: number;
  /** struct sock_filter[], 8 bytes each. */
  program: Uint8Array;
  /** The filter has SCMP_ACT_NOTIFY rules: the init sends back its listener fd. */
  listener: boolean;
  instructions: number;
  /** Most instructions one syscall can run through, argument checks included. */
  longestPath: number;
  /** Most instructions a syscall without argument rules runs through. */
  plainLongestPath: number;
}

const MAGIC = 0x42535242; // "BRSB"
const FORMAT = 1;
const HEADER_LEN = 32;
const DIGEST_LEN = 32;
const MAX_INSNS = 4096;

// Bun's own SHA-256: node:crypto costs milliseconds to import in a fresh process.
function sha256(data: string | Uint8Array): Buffer {
  const h = Bun.SHA256.hash(data) as Uint8Array;
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength);
}

/** Profile JSON; bigints (lossless config parsing) written as digits with an "n". */
function canonical(profile: unknown): string {
  try {
    return JSON.stringify(profile);
  } catch {
    return JSON.stringify(profile, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
  }
}

export function cacheKey(profile: unknown, native: string): string {
  return Bun.SHA256.hash(`bunrunc-seccomp ${FORMAT}\n${libraryIdentity()}\n${probeMask()}\n${native}\n${canonical(profile)}`, "hex");
}

export function readCached(dir: string, key: string): CachedFilter | undefined {
  let file: Buffer;
  try {
    file = readFileSync(join(dir, `${key}.bpf`));
  } catch {
    return undefined;
  }
  if (file.length < HEADER_LEN + DIGEST_LEN + 8) return undefined;
  const dv = new DataView(file.buffer, file.byteOffset, file.length);
  const h = Array.from({ length: 8 }, (_, i) => dv.getUint32(4 * i, true));
  const [magic, format, flags, listener, instructions, longestPath, plainLongestPath] = h as [number, number, number, number, number, number, number];
  if (magic !== MAGIC || format !== FORMAT || instructions < 1 || instructions > MAX_INSNS) return undefined;
  if (file.length !== HEADER_LEN + DIGEST_LEN + instructions * 8) return undefined;
  const program = new Uint8Array(file.subarray(HEADER_LEN + DIGEST_LEN));
  if (!sha256(program).equals(file.subarray(HEADER_LEN, HEADER_LEN + DIGEST_LEN))) return undefined;
  return { flags, program, listener: listener === 1, instructions, longestPath, plainLongestPath };
}

/** Best effort: a cache that cannot be written only costs the next process a compile. */
export function writeCached(dir: string, key: string, f: CachedFilter, debug?: (m: string) => void): void {
  const header = new Uint32Array([MAGIC, FORMAT, f.flags, f.listener ? 1 : 0, f.instructions, f.longestPath, f.plainLongestPath, 0]);
  const bytes = Buffer.concat([Buffer.from(header.buffer), sha256(f.program), f.program]);
  const target = join(dir, `${key}.bpf`);
  const temp = join(dir, `.${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(temp, bytes, { flag: "wx", mode: 0o600 });
    renameSync(temp, target);
  } catch (e) {
    debug?.(`seccomp cache: cannot write ${target}: ${(e as Error).message}`);
    try {
      unlinkSync(temp);
    } catch {}
  }
}
