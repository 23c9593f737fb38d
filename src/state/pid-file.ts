// --pid-file: the container process's pid where an engine asked for it (create, exec, restore).
import { randomBytes } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Atomic, no trailing newline (runc's format; clients read it with strconv.Atoi). */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  // A fresh name, created exclusively: a link or file planted at a guessable name in a
  // directory others can write is never followed or truncated (as runc: O_EXCL).
  const tmp = join(dirname(abs), `.${process.pid}.${randomBytes(8).toString("hex")}.pid`);
  writeFileSync(tmp, String(pid), { mode: 0o644, flag: "wx" });
  renameSync(tmp, abs);
}
