// --pid-file: the container process's pid where an engine asked for it (create, exec, restore).
import { renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Atomic, no trailing newline (runc's format; clients read it with strconv.Atoi). */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  // A fresh name, created exclusively: a link or file planted at a guessable name in a
  // directory others can write is never followed or truncated (as runc: O_EXCL).
  // Web Crypto's generator, not node:crypto's: loading that module cost every create ~1.5-2 ms.
  const random = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
  const tmp = join(dirname(abs), `.${process.pid}.${random}.pid`);
  writeFileSync(tmp, String(pid), { mode: 0o644, flag: "wx" });
  renameSync(tmp, abs);
}
