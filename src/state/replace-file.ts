// One way to put a file into a container's state directory: whole or not at all, never a torn
// file a reader (bunrunc-core, the front) could read half of. No fsync (src/state/store.ts says why).
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

let tempSerial = 0;

/** Puts `bytes` at dir/name at once (a unique 0600 temp file beside it, renamed over it). */
export function replaceFile(dir: string, name: string, bytes: Uint8Array): void {
  const tmp = join(dir, `.${name}.${process.pid}.${++tempSerial}`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    closeSync(fd);
    renameSync(tmp, join(dir, name));
  } catch (e) {
    try {
      closeSync(fd);
    } catch {}
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
}
