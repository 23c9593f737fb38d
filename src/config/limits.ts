// Input size limits for runtime-spec documents (config.json, exec's process.json, update's
// resources), so a hostile or broken input costs bounded memory and fails with one short line
// naming where it is too big, before anything is made. Also what the plan (src/plan/wire.ts,
// zig/plan.zig) could not carry anyway, caught here with the JSON path in the message.
//
// DOCUMENT_BYTES_MAX (8 MiB): the plan built from a config is at most 4 MiB, and a document holds
// the plan's strings once plus JSON quoting, escapes and parts the plan does not carry (hooks,
// annotations; seccomp goes in compiled); real configs are 10-100 KB (podman's with its seccomp
// profile ~60 KB, CRI's with pod annotations well under 1 MiB). So 8 MiB refuses nothing real,
// and bounds what one call parses (JSON.parse of 8 MiB peaks at a few tens of MB).
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { PLAN_STRING_BYTES_MAX } from "../base/plan-bounds.ts";
import { ConfigProblem } from "./issues.ts";

export const DOCUMENT_BYTES_MAX = 8 * 1024 * 1024;
/** One string (or object key): the plan's own limit (one plan string, e.g. one env entry). */
export const STRING_BYTES_MAX = PLAN_STRING_BYTES_MAX;
/** Members of one array or object: the plan's limit on a string list (zig/plan.zig strs_count_max) and on ops. */
export const MEMBERS_MAX = 4096;
/**
 * Top-level members exempt from the per-string and member limits: annotations go to the state and
 * to hooks, never into the plan, and CRI passes pod annotations that may be long; the document
 * limit bounds them.
 */
const UNLIMITED_TOP_LEVEL = new Set(["annotations"]);

/** The document is larger than DOCUMENT_BYTES_MAX; `size` is null when it is not a regular file. */
export class DocumentTooLarge extends Error {
  override readonly name = "DocumentTooLarge";
  constructor(readonly size: number | null) {
    super(`${size === null ? "more than" : size} bytes, at most ${DOCUMENT_BYTES_MAX}`);
  }
}

const READ_CHUNK = 64 * 1024;

/**
 * The text of a file (or of fd 0 for "-"), refused before it is read whole when larger than
 * DOCUMENT_BYTES_MAX: a regular file by its size, anything else (a pipe) after max + 1 bytes.
 * Throws DocumentTooLarge, or the open/read error as Node gives it.
 */
let regularFilesOnly = false;

/**
 * The resident server's rule: a document it reads (config.json, process.json) must be a regular
 * file when opened — a FIFO swapped in after admission read the path would hold the server.
 */
export function requireRegularDocuments(): void {
  regularFilesOnly = true;
}

export function readDocument(path: string | 0): string {
  const fd = path === 0 ? 0 : openSync(path, regularFilesOnly ? constants.O_RDONLY | constants.O_NONBLOCK : constants.O_RDONLY);
  try {
    const st = fstatSync(fd);
    if (regularFilesOnly && !st.isFile()) throw new Error(`${path === 0 ? "stdin" : path}: not a regular file`);
    if (st.isFile() && st.size > DOCUMENT_BYTES_MAX) throw new DocumentTooLarge(st.size);
    let buf = Buffer.allocUnsafe(Math.min(DOCUMENT_BYTES_MAX + 1, st.isFile() ? st.size + 1 : READ_CHUNK));
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        if (len > DOCUMENT_BYTES_MAX) throw new DocumentTooLarge(null);
        const next = Buffer.allocUnsafe(Math.min(DOCUMENT_BYTES_MAX + 1, buf.length * 2));
        buf.copy(next, 0, 0, len);
        buf = next;
      }
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    if (len > DOCUMENT_BYTES_MAX) throw new DocumentTooLarge(null);
    return buf.toString("utf8", 0, len);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** The UTF-8 length of `s` when it is over STRING_BYTES_MAX, else null (short strings are not measured: at most 3 bytes per UTF-16 unit). */
function overLimit(s: string): number | null {
  if (s.length * 3 <= STRING_BYTES_MAX) return null;
  const bytes = Buffer.byteLength(s);
  return bytes > STRING_BYTES_MAX ? bytes : null;
}

/**
 * Throws a ConfigProblem at the first string, key, array or object (in document order) past the
 * limits above, e.g. `process.args[3]: 5000000 bytes, at most 4096`.
 */
export function checkLimits(value: unknown): void {
  walk(value, []);
}

function walk(value: unknown, path: (string | number)[]): void {
  if (typeof value === "string") {
    const bytes = overLimit(value);
    if (bytes !== null) throw new ConfigProblem(path, `${bytes} bytes, at most ${STRING_BYTES_MAX}`);
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    if (value.length > MEMBERS_MAX) throw new ConfigProblem(path, `${value.length} entries, at most ${MEMBERS_MAX}`);
    for (let i = 0; i < value.length; i++) walk(value[i], [...path, i]);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length > MEMBERS_MAX) throw new ConfigProblem(path, `${keys.length} members, at most ${MEMBERS_MAX}`);
  for (const key of keys) {
    if (path.length === 0 && UNLIMITED_TOP_LEVEL.has(key)) continue;
    const bytes = overLimit(key);
    if (bytes !== null) throw new ConfigProblem(path, `a key of ${bytes} bytes, at most ${STRING_BYTES_MAX}`);
    walk((value as Record<string, unknown>)[key], [...path, key]);
  }
}
