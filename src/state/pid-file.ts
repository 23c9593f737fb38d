// --pid-file: the container process's pid where an engine asked for it (create, exec, restore).
import { renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Atomic, no trailing newline (runc's format; clients read it with strconv.Atoi). */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${Date.now()}.${process.pid}.pid`);
  writeFileSync(tmp, String(pid), { mode: 0o644 });
  renameSync(tmp, abs);
}
