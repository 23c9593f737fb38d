// Whether the server may act for a connecting process. The server runs as root; a caller gets
// nothing from it that it could not do itself only if it is the same kind of process: same
// namespaces, same credentials and capability sets, no seccomp filter or no_new_privs the server
// lacks, the same LSM label, and (cgroup v1) no device restrictions. Anything else is refused and
// the front runs bunrunc-core directly, as the caller itself.
import { readFileSync, readlinkSync } from "node:fs";
import { v1Mounts } from "../cgroups/paths.ts";

const NAMESPACES = ["mnt", "pid", "net", "user", "ipc", "uts", "cgroup", "time"];
const STATUS_FIELDS = ["Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"];
const UNRESTRICTED_DEVICES = "a *:* rwm";

/**
 * What must match between the server and a caller ("-" where this host lacks a field), and the
 * process's umask (files the server makes for a caller: state, pid file, log), from one read of
 * its status.
 */
export function contextOf(pid: number | "self"): { context: string; umask: number } {
  const parts: string[] = [];
  for (const ns of NAMESPACES) parts.push(`${ns}=${readOr(() => readlinkSync(`/proc/${pid}/ns/${ns}`))}`);
  const status = readFileSync(`/proc/${pid}/status`, "latin1");
  for (const field of STATUS_FIELDS) {
    const m = new RegExp(`^${field}:\\s*(.*)$`, "m").exec(status);
    parts.push(`${field}=${m ? m[1]!.trim() : "-"}`);
  }
  parts.push(`label=${readOr(() => readFileSync(`/proc/${pid}/attr/current`, "latin1").trim())}`);
  const umask = /^Umask:\s*([0-7]+)$/m.exec(status);
  return { context: parts.join("\n"), umask: umask ? parseInt(umask[1]!, 8) : 0o022 };
}

function readOr(read: () => string): string {
  try {
    return read();
  } catch {
    return "-";
  }
}

/** The v1 devices hierarchy's mount point, read once per server ("" when there is none). */
let devicesMount: string | undefined;

/** cgroup v1: the caller's devices cgroup allows every device (a container's would not). */
export function devicesUnrestricted(pid: number): boolean {
  const line = readFileSync(`/proc/${pid}/cgroup`, "latin1")
    .split("\n")
    .find((l) => /^\d+:([^:]*,)?devices(,[^:]*)?:/.test(l));
  if (!line) return true; // no v1 devices hierarchy (cgroup v2)
  devicesMount ??= v1Mounts().devices ?? "";
  const mount = devicesMount;
  if (!mount) return false;
  const path = line.slice(line.indexOf(":", line.indexOf(":") + 1) + 1);
  try {
    return readFileSync(`${mount}${path === "/" ? "" : path}/devices.list`, "latin1").trim() === UNRESTRICTED_DEVICES;
  } catch {
    return false;
  }
}

/** The caller's umask when the server may act for `pid`; null when it may not. */
export function admit(pid: number, own: string): number | null {
  let theirs: { context: string; umask: number };
  try {
    theirs = contextOf(pid);
  } catch {
    return null; // the caller is gone
  }
  if (theirs.context !== own || !devicesUnrestricted(pid)) return null;
  return theirs.umask;
}
