// A container's saved state and its live status. The saved part is runc's state JSON plus a
// `bunrunc` field of what the other verbs need (init start time, cgroup paths, hooks); the live
// status is computed every time from the process, the exec fifo and the freezer.
// Storage (layout, atomic writes, the per-container lock) is src/state/store.ts.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as store from "../state/store.ts";
import { isAlive } from "./init-process.ts";
import type { SpecHooks } from "../config/types.ts";

export type Status = "creating" | "created" | "running" | "paused" | "stopped";

/** What bunrunc keeps for itself beside the OCI fields. */
export interface Internal {
  /** /proc/PID/stat start time of the init, so a recycled pid reads as stopped. */
  initStartTime: string;
  /** Cgroup paths as the manager reported them (controller -> dir; v2: {"": dir}). */
  cgroupPaths: Record<string, string>;
  cgroupVersion: 1 | 2;
  /** --systemd-cgroup: the transient scope systemd keeps the cgroup as; `update` and `delete` go through it. */
  systemdUnit?: string;
  /** The scope's InvocationID at create: `delete` stops the unit of that name only while it still has it. */
  systemdInvocationId?: string;
  hooks?: SpecHooks;
  /** The container has its own pid namespace: killing the init kills everything. */
  ownPidNs: boolean;
  /**
   * No mount namespace: the private bind of the rootfs (host path, mount id) the init made in the
   * runtime's mount namespace, with every container mount under it; `delete` detaches it.
   */
  rootfsMount?: { path: string; id: number };
  /** linux.netDevices moved into the container (host name, container name); `delete` moves them back. */
  netDevices?: { host: string; container: string }[];
  /**
   * linux.resources as applied: the config's at create, each `update` merged in
   * (resources-record.ts). Written with exact integers; read back through JSON.parse.
   */
  resources?: unknown;
  /**
   * While status is "creating": the process running create (pid + start time). Gone before the
   * record says created, it died half way: what it made is for `delete` to remove.
   */
  creator?: { pid: number; startTime: string };
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

export const defaultRoot = store.defaultRoot;
export const isUntrustedState = store.isUntrustedState;
export const validateId = store.validateId;

export const stateDir = (root: string, id: string) => join(root, id);
export const fifoPath = (root: string, id: string) => join(root, id, "exec.fifo");

export function readState(root: string, id: string): ContainerState {
  return store.readStateFile<ContainerState>(root, id);
}

export function writeState(root: string, state: ContainerState): void {
  store.writeStateFile(root, state.id, state);
}

/** Creates <root>/<id>; runc's wording when it exists. */
export function makeStateDir(root: string, id: string): string {
  return store.createContainerDir(root, id);
}

export function removeStateDir(root: string, id: string): void {
  store.removeContainerDir(root, id);
}

export function listIds(root: string): string[] {
  return store.listContainerIds(root);
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

/**
 * The status right now: stopped when the init is gone (or recycled), created while the fifo
 * exists. A record create wrote before it finished says "creating": so it stays while its init
 * lives (or, before there is one, while its creator does).
 */
export function liveStatus(root: string, s: ContainerState): Status {
  if (s.status === "creating") return creatingStatus(s);
  if (!isAlive(s.pid, s.bunrunc.initStartTime)) return "stopped";
  if (frozen(s)) return "paused";
  if (existsSync(fifoPath(root, s.id))) return "created";
  return "running";
}

function creatingStatus(s: ContainerState): Status {
  if (s.pid > 0) return isAlive(s.pid, s.bunrunc.initStartTime) ? "creating" : "stopped";
  return creatorAlive(s) ? "creating" : "stopped";
}

/** The process that wrote a "creating" record still runs (it may yet finish or undo it). */
export function creatorAlive(s: ContainerState): boolean {
  const c = s.bunrunc.creator;
  return s.status === "creating" && c !== undefined && isAlive(c.pid, c.startTime);
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
