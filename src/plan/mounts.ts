// config.json `mounts` -> Mount ops, in config order. Bind sources are resolved on the host side
// now (relative to the bundle, like runc); destinations are resolved by the init inside the rootfs.
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { MS } from "./linux.ts";
import { isBindMount, MountOptionError, parseMountOptions } from "./mount-options.ts";
import type { IdMapping, Spec, SpecMount } from "../config/types.ts";
import { Op, type PlanWriter } from "./wire.ts";

/** The container's cgroup as the cgroup manager created it (for `type: cgroup` mounts). */
export interface CgroupView {
  version: 1 | 2;
  /** v1: controller -> host directory of the container's cgroup; v2: {"": dir}. */
  paths: Record<string, string>;
}

export interface MountContext {
  bundle: string;
  cgroup?: CgroupView;
  /** The container gets its own cgroup namespace: cgroup filesystems can be mounted fresh. */
  cgroupNs: boolean;
  /** The container runs in a user namespace (created or joined). */
  userNs?: boolean;
  /** linux.mountLabel, on a host where SELinux applies it. */
  mountLabel?: string;
  /** mounts[] index -> the init's fd of that mount made idmapped on the host side (idmapRequests). */
  idmapFds?: ReadonlyMap<number, number>;
}

/** An idmapped bind mount the host side makes before the init runs (src/lib/idmap.ts). */
export interface IdmapRequest {
  index: number;
  source: string;
  /** rbind: the submounts are cloned too. */
  cloneRecursive: boolean;
  /** ridmap: the submounts are idmapped too. */
  idmapRecursive: boolean;
  uidMappings: readonly IdMapping[];
  gidMappings: readonly IdMapping[];
}

/**
 * The mounts to idmap, as runc 1.2+: `idmap`/`ridmap` options or uidMappings/gidMappings on the
 * mount; the mount's own mappings, else the container's user namespace mappings. Bind mounts only.
 */
export function idmapRequests(spec: Spec, bundle: string): IdmapRequest[] {
  const out: IdmapRequest[] = [];
  (spec.mounts ?? []).forEach((m, index) => {
    const where = `mounts[${index}]`;
    const own = Boolean(m.uidMappings?.length || m.gidMappings?.length);
    const opt = (m.options ?? []).includes("ridmap") ? "recursive" : (m.options ?? []).includes("idmap") ? "top" : undefined;
    if (!own && !opt) return;
    if (!isBindMount(m.type, m.options)) throw new CompileError(`${where}: idmapped mounts must be bind mounts (type "bind" or a bind/rbind option)`);
    const uid = own ? m.uidMappings : spec.linux?.uidMappings;
    const gid = own ? m.gidMappings : spec.linux?.gidMappings;
    if (!uid?.length || !gid?.length) {
      throw new CompileError(`${where}.options: ${opt === "recursive" ? "ridmap" : "idmap"} needs uidMappings and gidMappings, on the mount or in linux (a new user namespace)`);
    }
    if (!m.source) throw new CompileError(`${where}.source: required for a bind mount`);
    out.push({
      index,
      source: resolve(bundle, m.source),
      cloneRecursive: (m.options ?? []).includes("rbind"),
      idmapRecursive: opt === "recursive",
      uidMappings: uid,
      gidMappings: gid,
    });
  });
  return out;
}

/** Filesystems that get no context= from linux.mountLabel (runc labels neither). */
const UNLABELED = new Set(["proc", "sysfs", "mqueue", "cgroup", "cgroup2"]);

/** linux.mountLabel as the SELinux context= mount option, for the filesystems runc labels. */
function withMountLabel(data: string, fstype: string, label: string | undefined): string {
  if (!label || UNLABELED.has(fstype)) return data;
  const context = `context="${label}"`;
  return data ? `${data},${context}` : context;
}

export class CompileError extends Error {}

const MKDIR_NONE = 0;
const MKDIR_DIR = 1;
const MKDIR_FILE = 2;

export function normalizeDestination(dest: string): string {
  // runc accepts relative destinations (older specs allowed them) and makes them absolute.
  return dest.startsWith("/") ? dest : `/${dest}`;
}

function isFile(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false; // a missing source fails at mount time, with the init's error
  }
}

interface MountArgs {
  source: string;
  dest: string;
  fstype: string;
  flags: number;
  data: string;
  propagation: number;
  attrSet: number;
  attrClr: number;
  mkdir: number;
  tmpcopyup: boolean;
  /** The init's fd of an idmapped detached mount made on the host side (src/lib/idmap.ts). */
  treeFd?: number;
}

/**
 * Files on procfs a bind may cover, as runc allows (what lxcfs provides); anything else the
 * init refuses on procfs unless it is procfs itself.
 */
const PROC_FILES_ALLOWED = new Set([
  "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
  "/proc/loadavg", "/proc/slabinfo", "/proc/pressure/cpu", "/proc/pressure/io", "/proc/pressure/memory",
  "/proc/sys/kernel/ns_last_pid", "/proc/sys/crypto/fips_enabled",
]);
const ONTO_PROC_FILE = 1;

function emit(w: PlanWriter, m: MountArgs, description: string): void {
  w.op(Op.Mount, description)
    .str(m.source)
    .str(m.dest)
    .str(m.fstype)
    .u64(m.flags)
    .str(m.data)
    .u64(m.propagation)
    .u64(m.attrSet)
    .u64(m.attrClr)
    .u32(m.mkdir)
    .u32(m.tmpcopyup ? 1 : 0)
    .u32(PROC_FILES_ALLOWED.has(m.dest) ? ONTO_PROC_FILE : 0)
    .i32(m.treeFd ?? -1);
}

export function emitMounts(w: PlanWriter, mounts: readonly SpecMount[], ctx: MountContext): void {
  mounts.forEach((m, i) => emitMount(w, m, i, ctx));
}

function emitMount(w: PlanWriter, m: SpecMount, index: number, ctx: MountContext): void {
  const where = `mounts[${index}]`;
  let opts;
  try {
    opts = parseMountOptions(m.options);
  } catch (e) {
    if (e instanceof MountOptionError) throw new CompileError(`${where}.options: ${e.message}`);
    throw e;
  }
  const dest = normalizeDestination(m.destination);
  const bind = isBindMount(m.type, m.options);
  if (m.type === "cgroup" && !bind) return emitCgroupMount(w, dest, opts.flags, ctx);
  const source = bind && m.source ? resolve(ctx.bundle, m.source) : (m.source ?? "");
  const fstype = bind ? "" : (m.type ?? "");
  if (!bind && !fstype) throw new CompileError(`${where}.type: required for a mount that is not a bind mount`);
  if (bind && !source) throw new CompileError(`${where}.source: required for a bind mount`);
  const treeFd = ctx.idmapFds?.get(index);
  if ((opts.idmap || m.uidMappings?.length) && treeFd === undefined) throw new CompileError(`${where}: idmapped, but no idmapped mount was made for it`);
  emit(
    w,
    {
      source,
      dest,
      fstype,
      flags: opts.flags,
      data: bind ? opts.data : withMountLabel(opts.data, fstype, ctx.mountLabel),
      propagation: opts.propagation,
      attrSet: opts.attrSet,
      attrClr: opts.attrClr,
      mkdir: bind && isFile(source) ? MKDIR_FILE : MKDIR_DIR,
      tmpcopyup: opts.tmpcopyup && fstype === "tmpfs",
      treeFd,
    },
    `mount ${source || fstype} on ${dest}${treeFd === undefined ? "" : " (idmapped)"}`,
  );
}

function plain(source: string, dest: string, fstype: string, flags: number, data: string, mkdir = MKDIR_DIR): MountArgs {
  return { source, dest, fstype, flags, data, propagation: 0, attrSet: 0, attrClr: 0, mkdir, tmpcopyup: false };
}

/**
 * `type: cgroup`. With a cgroup namespace (or on v2) the filesystem is mounted fresh. On v1
 * without one, like runc: a tmpfs, then each hierarchy's container cgroup bound on its own
 * directory, then the tmpfs remounted with the mount's flags (read-only usually).
 */
function emitCgroupMount(w: PlanWriter, dest: string, flags: number, ctx: MountContext): void {
  const cg = ctx.cgroup;
  if (cg?.version === 2 && ctx.userNs && !ctx.cgroupNs) {
    // A user namespace without its own cgroup namespace may not mount cgroup2 (EPERM): bind the
    // container's cgroup directory instead, as runc falls back to.
    // Rootless without a delegated cgroup the container has none: it sees the one it runs in, ours.
    const dir = cg.paths[""] ?? `/sys/fs/cgroup${ownV2Cgroup()}`;
    emit(w, plain(dir, dest, "", MS.BIND | MS.REC | flags, ""), `mount ${dir} on ${dest}`);
    return;
  }
  if (!cg || cg.version === 2) {
    emit(w, plain("cgroup", dest, "cgroup2", flags, ""), `mount cgroup2 on ${dest}`);
    return;
  }
  const fsFlags = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  emit(w, plain("tmpfs", dest, "tmpfs", fsFlags, "mode=755"), `mount tmpfs on ${dest}`);
  const seen = new Set<string>();
  for (const [controller, dir] of Object.entries(cg.paths)) {
    const hierarchy = /^\/sys\/fs\/cgroup\/([^/]+)/.exec(dir)?.[1] ?? controller;
    if (seen.has(hierarchy)) continue;
    seen.add(hierarchy);
    const sub = `${dest}/${hierarchy}`;
    if (ctx.cgroupNs) {
      const data = hierarchy.startsWith("name=") ? hierarchy : hierarchy === "systemd" ? "name=systemd" : hierarchy;
      emit(w, plain("cgroup", sub, "cgroup", flags, data), `mount cgroup ${hierarchy} on ${sub}`);
    } else {
      emit(w, plain(dir, sub, "", MS.BIND | MS.REC | flags, ""), `mount ${dir} on ${sub}`);
    }
  }
  emit(w, plain("tmpfs", dest, "tmpfs", MS.REMOUNT | fsFlags | flags, "mode=755", MKDIR_NONE), `remount ${dest}`);
}

/** This process's cgroup v2 path ("/" when it cannot be read). */
function ownV2Cgroup(): string {
  try {
    return /^0::(\/.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1] ?? "/";
  } catch {
    return "/";
  }
}

/** /dev is the host's /dev bound in: the init must not create device nodes in it. */
export function devIsBound(mounts: readonly SpecMount[]): boolean {
  return mounts.some((m) => normalizeDestination(m.destination) === "/dev" && isBindMount(m.type, m.options));
}
