// Who the resident server acts for, and which calls it runs: its whole policy in one file.
//
// Who: the server runs as root and acts for whoever reaches its socket, so a caller is admitted
// only as the kernel identifies it — through a pidfd of the connecting process (SO_PEERPIDFD),
// never a bare pid that could be reused between the check and the call — and only when it is
// the same kind of process as the server: same namespaces, same credentials and capability sets,
// no seccomp filter or no_new_privs the server lacks, the same LSM label, and (cgroup v1) no
// device restrictions. The /proc reads count only if the pidfd shows the caller still alive after
// them. The socket's directory (root-only, zig/server_link.zig) already keeps every other user out.
//
// Which: the verbs worth a round trip, minus a terminal the runtime would relay itself (it would hold
// the one-call-at-a-time server for the container's life). A container's hooks do not hold it: the
// server parks a call while its hook runs (src/server/serve.ts). Everything refused or not served
// runs directly in the front's process.
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, readSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ffi from "../ffi.ts";
import * as transport from "../ffi-server.ts";
import { v1Mounts } from "../cgroups/paths.ts";
import { parseArgv } from "../cli/parse.ts";

const NAMESPACES = ["mnt", "pid", "net", "user", "ipc", "uts", "cgroup", "time"];
const STATUS_FIELDS = ["Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"];
const UNRESTRICTED_DEVICES = "a *:* rwm";
const POLLIN = 1;

/** An admitted caller: its pidfd (the server's proof of who it is) and what was read while it was proven alive. */
export interface Admitted {
  pid: number;
  pidfd: number;
  umask: number;
  /** Its /proc/PID/cgroup (a relative cgroupsPath is resolved under it). */
  cgroups: string;
}

/**
 * What must match between the server and a caller ("-" where this host lacks a field), and the
 * process's umask (files the server makes for a caller: state, pid file, log), from one read of
 * its status.
 */
export function contextOf(pid: number | "self"): { context: string; umask: number } {
  const parts: string[] = [];
  for (const ns of NAMESPACES) parts.push(`${ns}=${readOr(() => readlinkSync(`/proc/${pid}/ns/${ns}`))}`);
  const status = readFileSync(`/proc/${pid}/status`, "latin1");
  for (const field of STATUS_FIELDS) parts.push(`${field}=${statusField(status, field) ?? "-"}`);
  parts.push(`label=${readOr(() => readFileSync(`/proc/${pid}/attr/current`, "latin1").trim())}`);
  // Its root directory (a chrooted caller names paths in another tree) and its resource limits
  // (the server's own writes would run under a first caller's, or past a later one's).
  parts.push(`root=${readOr(() => fileId(`/proc/${pid}/root`))}`);
  parts.push(`limits=${readOr(() => readFileSync(`/proc/${pid}/limits`, "latin1"))}`);
  const umask = /^Umask:\s*([0-7]+)$/m.exec(status);
  return { context: parts.join("\n"), umask: umask ? parseInt(umask[1]!, 8) : 0o022 };
}

/** A /proc/PID/status field's value, trimmed; null when the kernel has no such field. An empty one is "" (never the next line). */
function statusField(status: string, name: string): string | null {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, "m").exec(status);
  return m ? m[1]!.trim() : null;
}

function fileId(path: string): string {
  const st = statSync(path);
  return `${st.dev}:${st.ino}`;
}

/**
 * The server's own context is whole: every capability its bounding set allows is effective, no
 * no_new_privs, no seccomp filter. A server started otherwise would serve no full-root caller
 * (their contexts differ) and only hold the socket: it does not serve at all.
 */
export function unrestricted(): boolean {
  const status = readFileSync("/proc/self/status", "latin1");
  const field = (name: string) => statusField(status, name) ?? "";
  const bnd = field("CapBnd");
  return bnd !== "" && field("CapEff") === bnd && field("CapPrm") === bnd && field("NoNewPrivs") === "0" && field("Seccomp") === "0";
}

/**
 * The fd the front sends with Go: its own open of the server's /proc/PID/ns/mnt. The kernel lets
 * only a process that may inspect the server open it (ptrace read access: all the server's
 * capabilities, not sandboxed away from it by Landlock) — the sender of Go, whoever holds the
 * connection by then, proves it is no less than the caller admitted.
 */
export function provesAccess(fd: number): boolean {
  try {
    const theirs = fstatSync(fd);
    const ours = statSync("/proc/self/ns/mnt");
    return theirs.dev === ours.dev && theirs.ino === ours.ino;
  } catch {
    return false;
  }
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
export function devicesUnrestricted(cgroups: string): boolean {
  const line = cgroups.split("\n").find((l) => /^\d+:([^:]*,)?devices(,[^:]*)?:/.test(l));
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

/** The pid a pidfd refers to in our pid namespace (its fdinfo); 0 when it exited or is not visible from here. */
function pidOfPidfd(pidfd: number): number {
  try {
    const m = /^Pid:\s*(-?\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${pidfd}`, "latin1"));
    const pid = m ? Number(m[1]) : 0;
    return pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** The process behind the pidfd has not exited (so /proc/PID still names it, not a successor). */
export function stillAlive(pidfd: number): boolean {
  try {
    return ffi.pollFd(pidfd, POLLIN, 0) === 0;
  } catch {
    return false;
  }
}

/** Whether the admitted caller is still the same kind of process (checked again when it commits with Go). */
export function stillAdmitted(who: Admitted, own: string): boolean {
  try {
    return contextOf(who.pid).context === own && stillAlive(who.pidfd);
  } catch {
    return false;
  }
}

/** The connecting process, if the server may act for it (`own`: the server's contextOf). null: refused. */
export function admitCaller(conn: number, own: string): Admitted | null {
  let pidfd: number;
  try {
    pidfd = transport.peerPidfd(conn);
  } catch {
    return null; // no kernel-attested identity (before Linux 6.5): the direct path
  }
  try {
    const pid = pidOfPidfd(pidfd);
    if (pid) {
      const theirs = contextOf(pid);
      const cgroups = readFileSync(`/proc/${pid}/cgroup`, "latin1");
      if (theirs.context === own && devicesUnrestricted(cgroups) && stillAlive(pidfd)) return { pid, pidfd, umask: theirs.umask, cgroups };
    }
  } catch {
    // the caller is gone
  }
  ffi.close(pidfd);
  return null;
}

/**
 * Whether the server runs this call, judged with paths resolved in the caller's working
 * directory (`cwd`, /proc/PID/cwd). Direct instead: a terminal the runtime would relay itself.
 */
export function served(argv: string[], cwd: string): boolean {
  let inv;
  try {
    inv = parseArgv(argv);
  } catch {
    return false; // the direct path reports it
  }
  if (inv.kind !== "verb" || !SERVED.has(inv.verb)) return false;
  const { flags, global } = inv;
  // The systemd driver waits on systemd (its connection, a job: seconds at worst): never in the
  // server, where it would hold up every other caller. Engines pass the flag on every call.
  if (global.systemdCgroup) return false;
  // A log the server would open must be a plain file (or not yet exist): a FIFO would hold it.
  if (global.log && !plainOrAbsent(resolve(cwd, global.log))) return false;
  if (inv.verb === "run" || inv.verb === "create") {
    // Read here first (a regular file of bounded size): a FIFO would hold the server in create's own read.
    const config = readJson(join(resolve(cwd, (flags.bundle as string) || "."), "config.json")) as { process?: { terminal?: unknown } } | null;
    if (!config) return false;
    return inv.verb === "create" || Boolean(flags.detach) || Boolean(flags["console-socket"]) || config.process?.terminal !== true;
  }
  if (inv.verb === "exec" && !flags.detach) {
    if (flags.tty) return false;
    if (flags.process) {
      const proc = readJson(resolve(cwd, flags.process as string)) as { terminal?: unknown } | null;
      return proc !== null && proc.terminal !== true;
    }
  }
  return true;
}

/** The verbs worth a server round trip; the rest (and help, version) run directly. */
const SERVED = new Set(["create", "start", "delete", "kill", "state", "run", "exec"]);

/** A config or state the server decides by; a large one is not read (the direct path reports it). */
const DECIDING_FILE_MAX = 8 << 20;

/**
 * null when it cannot be read or parsed (the direct path reports it, or finds no container). Only
 * a regular file of bounded size is read: a FIFO or a huge file would hold up every other call.
 */
export function readJson(path: string): unknown {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > DECIDING_FILE_MAX) return null;
    const bytes = Buffer.alloc(st.size);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, null);
      if (n === 0) break;
      got += n;
    }
    return JSON.parse(bytes.subarray(0, got).toString("utf8"));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function plainOrAbsent(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT";
  }
}

