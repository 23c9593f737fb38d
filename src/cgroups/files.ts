// Reading and writing cgroup control files. Every write names the linux.resources field it
// serves, so a kernel refusal becomes one line saying what, where and why.
import { closeSync, constants, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strerror } from "../base/errno.ts";
import { CgroupError } from "./types.ts";
import { quote } from "../base/quote.ts";

/** cgroup v2 "max" and v1's unlimited sentinels read as the largest uint64 (runc's convention). */
export const UINT64_MAX = 2n ** 64n - 1n;

export function errnoOf(e: unknown): number {
  const n = (e as NodeJS.ErrnoException).errno;
  return typeof n === "number" ? Math.abs(n) : 0;
}

export const ENOENT = 2;
export const EINVAL = 22;
export const EBUSY = 16;

/** Writes `value` to dir/file; a failure throws CgroupError(field, "write VALUE to PATH: reason"). */
export function writeControl(dir: string, file: string, value: string | number | bigint, field: string): void {
  const path = join(dir, file);
  try {
    writeFileSync(path, String(value));
  } catch (e) {
    const errno = errnoOf(e);
    const why = errno === ENOENT ? `${path} does not exist on this host (controller or kernel feature missing)` : `write ${quote(String(value))} to ${path}: ${strerror(errno)}`;
    throw Object.assign(new CgroupError(field, why), { errno });
  }
}

/** Like writeControl, but returns the errno instead of throwing (for write-order retries). */
export function tryWrite(dir: string, file: string, value: string | number | bigint): number {
  try {
    writeFileSync(join(dir, file), String(value));
    return 0;
  } catch (e) {
    return errnoOf(e) || EINVAL;
  }
}

export function hasFile(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/** The file's text without the trailing newline; null when it does not exist (or cannot be read). */
export function readControl(dir: string, file: string): string | null {
  try {
    return readFileSync(join(dir, file), "utf8").replace(/\n$/, "");
  } catch {
    return null;
  }
}

/** A single number; "max" (v2) reads as UINT64_MAX; missing or unparsable reads as 0. */
export function readUint(dir: string, file: string): bigint {
  const text = readControl(dir, file)?.trim();
  if (!text) return 0n;
  if (text === "max") return UINT64_MAX;
  try {
    return BigInt(text);
  } catch {
    return 0n;
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events...). */
export function readKeyValues(dir: string, file: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (readControl(dir, file) ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    try {
      out.set(k, v === "max" ? UINT64_MAX : BigInt(v));
    } catch {}
  }
  return out;
}

/** "0-3,5" -> [0,1,2,3,5] (cpuset lists). */
export function parseList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-").map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** v1: `<dir>/tasks` of each dir opened O_WRONLY, for a new process to join by itself (CgroupManager.openJoinFds); null when one cannot be opened. */
export function openTasksFiles(dirs: readonly string[]): number[] | null {
  const fds: number[] = [];
  try {
    for (const d of dirs) fds.push(openSync(join(d, "tasks"), constants.O_WRONLY));
    return fds;
  } catch {
    for (const fd of fds) closeSync(fd);
    return null;
  }
}
