// The container's cgroup: resolve its directories, create them, apply linux.resources through
// the per-controller files (fixed order, v1 or v2), add processes, list them, freeze/thaw,
// signal everything, collect stats and remove it. One manager per container; the lifecycle
// (src/lib/container-cgroup.ts) and the verbs (update, pause, resume, ps, events) use it.
import { constants, existsSync, mkdirSync, openSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Controller } from "./controller.ts";
import { openTasksFiles, readControl, writeControl } from "./files.ts";
import { resolvePaths, v1Mounts, CGROUP_ROOT, type ResolveOptions, type Version } from "./paths.ts";
import { emptyStats, type Stats } from "./stats.ts";
import { CgroupError, FIELD, type ApplyContext, type Resources } from "./types.ts";
import { blkio } from "./v1/blkio.ts";
import { cpu as cpuV1 } from "./v1/cpu.ts";
import { cpuacct } from "./v1/cpuacct.ts";
import { cpuset as cpusetV1, inheritCpuset } from "./v1/cpuset.ts";
import { devices as devicesV1 } from "./v1/devices.ts";
import * as freezerV1 from "./v1/freezer.ts";
import { hugetlb as hugetlbV1 } from "./v1/hugetlb.ts";
import { memory as memoryV1 } from "./v1/memory.ts";
import { net_cls } from "./v1/net_cls.ts";
import { net_prio } from "./v1/net_prio.ts";
import { pids as pidsCtl } from "./v1/pids.ts";
import { rdma } from "./v1/rdma.ts";
import { cpu as cpuV2 } from "./v2/cpu.ts";
import { cpuset as cpusetV2 } from "./v2/cpuset.ts";
import { devices as devicesV2 } from "./v2/devices.ts";
import * as freezerV2 from "./v2/freezer.ts";
import { hugetlb as hugetlbV2 } from "./v2/hugetlb.ts";
import { io } from "./v2/io.ts";
import { memory as memoryV2 } from "./v2/memory.ts";
import { unified } from "./v2/unified.ts";
import { unprivileged } from "../base/rootless.ts";

/** Order matters: cpuset before anything joins, devices late, unified last (it overrides). */
const V1: readonly Controller[] = [cpusetV1, cpuV1, cpuacct, memoryV1, pidsCtl, blkio, hugetlbV1, net_cls, net_prio, rdma, devicesV1];
const V2: readonly Controller[] = [cpusetV2, cpuV2, memoryV2, pidsCtl, io, hugetlbV2, rdma, devicesV2, unified];

export interface ManagerOptions extends ResolveOptions {}


export class CgroupManager {
  constructor(
    readonly version: Version,
    /** v1: hierarchy -> dir; v2: {"": dir}. */
    readonly paths: Record<string, string>,
  ) {}

  static forContainer(id: string, cgroupsPath: string | undefined, opts: ManagerOptions = {}): CgroupManager {
    const { version, paths } = resolvePaths(id, cgroupsPath, opts);
    return new CgroupManager(version, paths);
  }

  /** Distinct directories (co-mounted v1 controllers share one). */
  dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  /** v2's one directory (throws on v1). */
  get dir(): string {
    return this.paths[""]!;
  }

  /** No directory at all: a rootless container made without a delegated cgroup. */
  none(): boolean {
    return Object.keys(this.paths).length === 0;
  }

  /**
   * Rootless (runc's rules): a hierarchy whose directory we may not make (EACCES, EPERM, EROFS)
   * is left out of `paths` (the container has no cgroup there) unless the config named its
   * cgroupsPath, which must then be made. Resources for a left-out controller then fail in apply().
   */
  createRootless(explicitPath: boolean): void {
    const denied = (e: unknown) => ["EACCES", "EPERM", "EROFS"].includes((e as NodeJS.ErrnoException).code ?? "");
    const named = (d: string) => new CgroupError("linux.cgroupsPath", `cannot make ${d}: permission denied (a rootless container's named cgroup must be delegated to uid ${process.geteuid!()})`);
    if (this.version === 2) {
      try {
        this.create();
      } catch (e) {
        if (!denied(e)) throw e;
        if (explicitPath) throw named(this.dir);
        delete this.paths[""];
      }
      return;
    }
    for (const [ctrl, d] of Object.entries(this.paths)) {
      try {
        mkdirSync(d, { recursive: true });
        if (ctrl === "cpuset") inheritCpuset(d, CGROUP_ROOT);
      } catch (e) {
        if (!denied(e)) throw e;
        if (explicitPath) throw named(d);
        delete this.paths[ctrl];
      }
    }
  }

  create(): void {
    if (this.version === 2) {
      enableControllers(dirname(this.dir));
      mkdirSync(this.dir, { recursive: true });
      return;
    }
    for (const [ctrl, d] of Object.entries(this.paths)) {
      mkdirSync(d, { recursive: true });
      if (ctrl === "cpuset") inheritCpuset(d, CGROUP_ROOT);
    }
  }

  /** Applies `r`: everything at create, only the given fields on update. Throws CgroupError. */
  apply(r: Resources, ctx: ApplyContext = { update: false }): void {
    if (this.none()) return this.refuseAll(r);
    if (this.version === 1 && Object.keys(r.unified ?? {}).length) {
      throw new CgroupError(`${FIELD}.unified`, "needs cgroup v2; this host uses cgroup v1");
    }
    if (this.version === 2) {
      const net = net_cls.wants(r) ?? net_prio.wants(r);
      if (net) throw new CgroupError(net, "cgroup v2 has no net_cls/net_prio controllers (use eBPF or tc instead)");
    }
    for (const c of this.version === 1 ? V1 : V2) {
      // A user cannot program the device cgroup (v1 devices.*, v2 a BPF program): runc ignores it rootless.
      if (ctx.rootless && (c === devicesV1 || c === devicesV2)) continue;
      const dir = this.controllerDir(c);
      if (!dir) {
        const field = c.wants(r);
        if (field && this.version === 1 && (ctx.rootless || unprivileged()) && !(c.name in this.paths) && c.name in v1Mounts()) throw noCgroup(field, c.name);
        if (field) throw new CgroupError(field, `the ${c.name} cgroup controller is not available on this host`);
        continue;
      }
      c.apply(dir, r, ctx);
    }
  }

  /** The container has no cgroup: every limit asked for is refused by name (devices excepted, as runc). */
  private refuseAll(r: Resources): void {
    for (const c of this.version === 1 ? V1 : V2) {
      if (c === devicesV1 || c === devicesV2) continue;
      const field = c.wants(r);
      if (field) throw noCgroup(field, c.name || "unified");
    }
  }

  /** The directory serving controller `c`, or null when the host does not offer it. */
  private controllerDir(c: Controller): string | null {
    if (this.version === 1) {
      const d = this.paths[c.name];
      return d && existsSync(d) ? d : null;
    }
    if (c.name === "") return this.dir;
    const available = (readControl(this.dir, "cgroup.controllers") ?? "").split(/\s+/);
    return available.includes(c.name) ? this.dir : null;
  }

  addProcess(pid: number): void {
    for (const d of this.dirs()) writeFileSync(join(d, "cgroup.procs"), String(pid));
  }

  /**
   * v1: each directory's `tasks` file opened for writing, for a new single-threaded process to
   * join by writing "0" itself (src/ffi.ts cgroupJoinFds): the kernel then skips the global
   * threadgroup lock whose RCU grace period costs addProcess 5-15 ms. The caller closes them.
   * null on v2 (one cgroup.procs write, or CLONE_INTO_CGROUP) or when one cannot be opened.
   */
  openJoinFds(): number[] | null {
    return this.version === 1 ? openTasksFiles(this.dirs()) : null;
  }

  /**
   * v2: the cgroup's directory opened, for clone3 CLONE_INTO_CGROUP: the process starts in it, and
   * no cgroup.procs write takes the global threadgroup lock (v2 has no `tasks` file to join
   * through). The caller closes it. null on v1, or when it cannot be opened.
   */
  openDirFd(): number | null {
    if (this.version !== 2) return null;
    try {
      return openSync(this.dir, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch {
      return null;
    }
  }

  /** Every process in the cgroup and its descendants. */
  pids(): number[] {
    const out = new Set<number>();
    for (const d of this.dirs()) collectPids(d, out);
    return [...out].sort((a, b) => a - b);
  }

  private freezerDir(): string {
    if (this.none()) throw new CgroupError("", "the container has no cgroup to freeze (made rootless without a delegated cgroup)");
    const d = this.version === 2 ? this.dir : this.paths.freezer;
    if (!d) throw new CgroupError("", "the freezer cgroup controller is not mounted on this host");
    return d;
  }

  async freeze(): Promise<void> {
    await (this.version === 2 ? freezerV2 : freezerV1).freeze(this.freezerDir());
  }

  thaw(): void {
    (this.version === 2 ? freezerV2 : freezerV1).thaw(this.freezerDir());
  }

  isFrozen(): boolean {
    try {
      return (this.version === 2 ? freezerV2 : freezerV1).frozen(this.freezerDir());
    } catch {
      return false;
    }
  }

  killAll(sig: number): void {
    if (this.version === 2 && !this.none() && sig === 9 && existsSync(join(this.dir, "cgroup.kill"))) {
      try {
        writeControl(this.dir, "cgroup.kill", "1", "cgroup.kill");
        return;
      } catch {}
    }
    for (const pid of this.pids()) {
      try {
        process.kill(pid, sig);
      } catch {}
    }
  }

  stats(): Stats {
    const s = emptyStats();
    if (this.none()) return s;
    for (const c of this.version === 1 ? V1 : V2) {
      const dir = this.controllerDir(c);
      if (dir && c.stats) c.stats(dir, s);
    }
    if (this.version === 2 && !this.controllerDir(pidsCtl)) s.pids.current = BigInt(this.pids().length);
    return s;
  }

  exists(): boolean {
    return this.dirs().some((d) => existsSync(d));
  }

  /** rmdir, children first; a directory that still has processes stays (callers empty it first). */
  destroy(): void {
    for (const d of this.dirs()) removeTree(d);
  }
}

/** A limit for a controller the container has no cgroup of (rootless, nothing delegated): runc's refusal. */
function noCgroup(field: string, controller: string): CgroupError {
  return new CgroupError(field, `cannot set the ${controller} limit: the container could not make or join a cgroup (rootless, and no cgroup is delegated to uid ${process.geteuid!()})`);
}

/** Turns on every available controller from the root down to `dir` so its children get them. */
function enableControllers(dir: string): void {
  const chain: string[] = [];
  for (let d = dir; d.startsWith(CGROUP_ROOT); d = dirname(d)) {
    chain.unshift(d);
    if (d === CGROUP_ROOT) break;
  }
  for (const d of chain) {
    mkdirSync(d, { recursive: true });
    const enabled = new Set((readControl(d, "cgroup.subtree_control") ?? "").split(/\s+/));
    for (const c of (readControl(d, "cgroup.controllers") ?? "").split(/\s+/)) {
      if (!c || enabled.has(c)) continue;
      try {
        writeFileSync(join(d, "cgroup.subtree_control"), `+${c}`);
      } catch {
        // A level with processes of its own cannot delegate (EBUSY); resources needing this
        // controller then fail by name in apply().
      }
    }
  }
}

function collectPids(dir: string, out: Set<number>): void {
  for (const l of (readControl(dir, "cgroup.procs") ?? "").split("\n")) if (l) out.add(Number(l));
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) collectPids(join(dir, e.name), out);
}

function removeTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {}
}
