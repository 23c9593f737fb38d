// Where a container's cgroup lives. v2 when /sys/fs/cgroup is cgroup2 (unified); otherwise v1,
// one directory per mounted hierarchy (a hybrid host's empty cgroup2 mount is ignored, as runc
// does). cgroupsPath: absolute -> under each hierarchy's root; relative -> under our own cgroup
// (v2: its parent, since ours holds processes); absent -> the container id, relative.
// "slice:prefix:name" is the systemd driver's syntax.
import { existsSync, readFileSync, statfsSync } from "node:fs";
import { join, normalize } from "node:path";
import { CgroupError } from "./types.ts";
import { quote } from "../base/quote.ts";

export const CGROUP_ROOT = "/sys/fs/cgroup";
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Mount options that are not controllers. */
const NOT_CONTROLLERS = new Set(["rw", "ro", "xattr", "clone_children", "noprefix", "cpuset_v2_mode", "nosuid", "nodev", "noexec", "relatime"]);

export type Version = 1 | 2;

export function cgroupVersion(): Version {
  try {
    if (statfsSync(CGROUP_ROOT).type === CGROUP2_SUPER_MAGIC) return 2;
  } catch {}
  return existsSync(join(CGROUP_ROOT, "cgroup.controllers")) ? 2 : 1;
}

/** v1: controller (or "name=" hierarchy name without the prefix) -> mount point. */
export function v1Mounts(mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0 || f[sep + 1] !== "cgroup") continue;
    for (const opt of (f[sep + 3] ?? "").split(",")) {
      if (NOT_CONTROLLERS.has(opt) || (opt.includes("=") && !opt.startsWith("name="))) continue;
      out[opt.startsWith("name=") ? opt.slice(5) : opt] ??= f[4]!;
    }
  }
  return out;
}

/**
 * A process's cgroups from its /proc/PID/cgroup text (this process's by default; the library
 * passes its spawner's, src/lib/spawner.ts): v1 controller -> path, and "" -> the v2 path.
 */
export function ownCgroups(text = readFileSync("/proc/self/cgroup", "utf8")): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === "") out[""] = m[2]!;
    for (const c of m[1]!.split(",")) if (c) out[c.startsWith("name=") ? c.slice(5) : c] = m[2]!;
  }
  return out;
}

/** "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" (systemd's slice nesting). */
export function expandSlice(slice: string): string {
  if (!slice.endsWith(".slice") || slice.includes("/")) throw new CgroupError("linux.cgroupsPath", `invalid systemd slice ${quote(slice)}`);
  const name = slice.slice(0, -".slice".length);
  if (name === "-.slice" || name === "-") return "/";
  let path = "";
  let prefix = "";
  for (const part of name.split("-")) {
    if (!part) throw new CgroupError("linux.cgroupsPath", `invalid systemd slice ${quote(slice)}`);
    prefix = prefix ? `${prefix}-${part}` : part;
    path += `/${prefix}.slice`;
  }
  return path;
}

export function systemdRunning(): boolean {
  return existsSync("/run/systemd/system");
}

/** systemd runs and its manager can be reached: its private socket (root) or the system bus. */
export function systemdReachable(): boolean {
  return systemdRunning() && (existsSync("/run/systemd/private") || existsSync("/run/dbus/system_bus_socket"));
}

/**
 * The systemd driver's "slice:prefix:name" -> the slice and the scope unit (runc's defaults:
 * system.slice, and "runc:ID" without a cgroupsPath). Where systemd does not run, there is no
 * one to create the scope: a clear error, like runc's.
 */
export function systemdUnit(id: string, cgroupsPath: string | undefined): { slice: string; unit: string } {
  if (!systemdRunning()) {
    throw new CgroupError("--systemd-cgroup", "systemd is not running on this host (no /run/systemd/system), so the systemd cgroup driver cannot be used; run without --systemd-cgroup");
  }
  const parts = cgroupsPath ? cgroupsPath.split(":") : ["", "runc", id];
  if (parts.length !== 3) {
    throw new CgroupError("linux.cgroupsPath", `expected "slice:prefix:name" for systemd cgroups, got ${quote(cgroupsPath)}`);
  }
  const [slice, prefix, name] = parts as [string, string, string];
  if (!name || name.includes("/")) throw new CgroupError("linux.cgroupsPath", `invalid systemd unit name ${quote(name)} in ${quote(cgroupsPath)}`);
  const unit = name.endsWith(".slice") ? name : `${prefix ? `${prefix}-` : ""}${name}.scope`;
  expandSlice(slice || "system.slice");
  return { slice: slice || "system.slice", unit };
}

/** The cgroup path systemd gives the scope: the slice's nesting, then the unit. */
export function systemdPath(id: string, cgroupsPath: string | undefined): string {
  const { slice, unit } = systemdUnit(id, cgroupsPath);
  return join(expandSlice(slice), unit);
}

export interface ResolveOptions {
  systemd?: boolean;
  /** Test hooks: the host's view. */
  version?: Version;
  mounts?: Record<string, string>;
  own?: Record<string, string>;
  /** The calling process's /proc/PID/cgroup, read only when a relative path needs it (default: this process's). */
  callerCgroups?: () => string;
}

/** The container's cgroup directories: v1 hierarchy -> dir, v2 {"": dir}. */
export function resolvePaths(id: string, cgroupsPath: string | undefined, opts: ResolveOptions = {}): { version: Version; paths: Record<string, string> } {
  const version = opts.version ?? cgroupVersion();
  let inner: string;
  if (opts.systemd) inner = systemdPath(id, cgroupsPath);
  else if (cgroupsPath?.includes(":")) {
    throw new CgroupError("linux.cgroupsPath", `${quote(cgroupsPath)} is a systemd path ("slice:prefix:name"); pass --systemd-cgroup to use the systemd driver`);
  } else inner = cgroupsPath || id;
  const absolute = inner.startsWith("/");
  inner = normalize(`/${inner}`).replace(/\/+$/, "");
  if (inner === "" || inner === "/") throw new CgroupError("linux.cgroupsPath", `${quote(cgroupsPath)} names the root cgroup`);
  const own = absolute ? {} : (opts.own ?? ownCgroups(opts.callerCgroups?.()));
  if (version === 2) {
    // Our own v2 cgroup holds processes, so a relative path goes next to it, under its parent.
    const base = absolute ? "/" : parentOf(own[""] ?? "/");
    return { version, paths: { "": join(CGROUP_ROOT, base, inner) } };
  }
  const paths: Record<string, string> = {};
  for (const [ctrl, mount] of Object.entries(opts.mounts ?? v1Mounts())) {
    paths[ctrl] = join(mount, absolute ? "/" : (own[ctrl] ?? "/"), inner);
  }
  return { version, paths };
}

function parentOf(p: string): string {
  const i = p.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}
