// A container's saved state and its live status. The saved part is runc's state JSON plus a
// `bunrunc` field of what the other verbs need (init start time, cgroup paths, hooks); the live
// status is computed every time from the process, the exec fifo and the freezer.
// NOTE: a minimal store (layout of docs/ARCHITECTURE.md "State", atomic temp+rename) until
// src/state/store.ts lands; it has no per-container lock yet.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BunruncError, notFound } from "./errors.ts";
import { isAlive } from "./process.ts";
import type { SpecHooks } from "../plan/spec.ts";

export type Status = "creating" | "created" | "running" | "paused" | "stopped";

/** What bunrunc keeps for itself beside the OCI fields. */
export interface Internal {
  /** /proc/PID/stat start time of the init, so a recycled pid reads as stopped. */
  initStartTime: string;
  /** Cgroup paths as the manager reported them (controller -> dir; v2: {"": dir}). */
  cgroupPaths: Record<string, string>;
  cgroupVersion: 1 | 2;
  hooks?: SpecHooks;
  /** The container has its own pid namespace: killing the init kills everything. */
  ownPidNs: boolean;
}

export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  bunrunc: Internal;
}

const ID_RE = /^[\w+\-.]+$/;

export function defaultRoot(): string {
  if (process.getuid?.() === 0 || !process.env.XDG_RUNTIME_DIR) return "/run/bunrunc";
  return join(process.env.XDG_RUNTIME_DIR, "bunrunc");
}

export function validateId(id: string): void {
  // The id names a directory under --root: no separators, no "." or "..".
  if (!ID_RE.test(id) || id === "." || id === "..") throw new BunruncError("usage", `invalid id format: ${id}`);
}

export const stateDir = (root: string, id: string) => join(root, id);
export const fifoPath = (root: string, id: string) => join(root, id, "exec.fifo");

export function readState(root: string, id: string): ContainerState {
  validateId(id);
  let text: string;
  try {
    text = readFileSync(join(root, id, "state.json"), "utf8");
  } catch {
    throw notFound(id);
  }
  return JSON.parse(text) as ContainerState;
}

export function writeState(root: string, state: ContainerState): void {
  const dir = stateDir(root, state.id);
  const tmp = join(dir, `.state.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, join(dir, "state.json"));
}

/** Creates <root>/<id>; runc's wording when it exists. */
export function makeStateDir(root: string, id: string): string {
  validateId(id);
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const dir = stateDir(root, id);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new BunruncError("exists", `container with id exists: ${id}`);
    throw new BunruncError("system", `create: mkdir ${dir}: ${(e as Error).message}`);
  }
  return dir;
}

export function removeStateDir(root: string, id: string): void {
  rmSync(stateDir(root, id), { recursive: true, force: true });
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, d.name, "state.json")))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

function frozen(s: ContainerState): boolean {
  const b = s.bunrunc;
  try {
    if (b.cgroupVersion === 2) return readFileSync(join(b.cgroupPaths[""]!, "cgroup.freeze"), "utf8").trim() === "1";
    const dir = b.cgroupPaths.freezer;
    return dir ? readFileSync(join(dir, "freezer.state"), "utf8").trim() !== "THAWED" : false;
  } catch {
    return false;
  }
}

/** The status right now: stopped when the init is gone (or recycled), created while the fifo exists. */
export function liveStatus(root: string, s: ContainerState): Status {
  if (!isAlive(s.pid, s.bunrunc.initStartTime)) return "stopped";
  if (frozen(s)) return "paused";
  if (existsSync(fifoPath(root, s.id))) return "created";
  return "running";
}

/** The saved state with the live status; pid 0 once stopped (runc's convention). */
export function refresh(root: string, s: ContainerState): ContainerState {
  const status = liveStatus(root, s);
  return { ...s, status, pid: status === "stopped" ? 0 : s.pid };
}

/** uid of the state dir -> user name (runc's list OWNER), numeric when /etc/passwd has none. */
export function ownerName(root: string, id: string): string {
  let uid: number;
  try {
    uid = statSync(stateDir(root, id)).uid;
  } catch {
    return "";
  }
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[2] === String(uid)) return f[0]!;
    }
  } catch {}
  return String(uid);
}

/** The OCI state JSON hooks receive on stdin. */
export function hookState(s: ContainerState, status: Status = s.status): object {
  const out: Record<string, unknown> = { ociVersion: s.ociVersion, id: s.id, status, pid: s.pid, bundle: s.bundle };
  if (s.annotations && Object.keys(s.annotations).length) out.annotations = s.annotations;
  return out;
}
