// `update`: change a running container's limits. The delta comes from runc's flags or from a
// LinuxResources JSON document (-r FILE, or "-" for stdin: what containerd and docker send);
// only the fields given are written, devices are left alone (runc does the same); the state
// records the merged limits.
import { readDocument } from "../config/limits.ts";
import { CgroupError, kernelMemoryWarning } from "../cgroups/types.ts";
import type { Resources } from "../config/types.ts";
import { parseResourcesJson } from "../config/load.ts";
import { loadCgroup, loadSystemdCgroup } from "./container-cgroup.ts";
import { readState, refresh, writeState } from "./container.ts";
import { mergeResources, resourcesForState } from "./resources-record.ts";
import { BunruncError } from "../base/errors.ts";
import { clip, quote } from "../base/quote.ts";
import { withContainerLock } from "../state/store.ts";

export interface UpdateOptions {
  root: string;
  id: string;
  resources: Resources;
  /** Warnings (kernel memory limits, ignored) go here; the CLI logs them. */
  warn?: (message: string) => void;
}

/** Applies the delta and records the merged limits, holding the container's lock (src/state/store.ts). */
export function update(opts: UpdateOptions): Promise<void> {
  return withContainerLock(opts.root, opts.id, () => updateHeld(opts));
}

function updateHeld(opts: UpdateOptions): void {
  const saved = readState(opts.root, opts.id);
  if (refresh(opts.root, saved).status === "stopped") throw new BunruncError("bad-state", "container not running");
  const kmem = kernelMemoryWarning(opts.resources);
  if (kmem) opts.warn?.(kmem);
  const merged = mergeResources(saved.bunrunc.resources as Resources | undefined, opts.resources);
  const { cgroupVersion: version, cgroupPaths: paths, systemdUnit } = saved.bunrunc;
  try {
    // The systemd driver: systemd's unit properties first, then the same cgroupfs writes.
    if (systemdUnit) loadSystemdCgroup(systemdUnit, version, paths).update(merged, opts.resources);
    else loadCgroup(version, paths).apply(opts.resources, { update: true });
  } catch (e) {
    if (e instanceof CgroupError) throw new BunruncError("system", `update: ${e.message}`);
    throw e;
  }
  // As runc's state after an update: the limits the container now runs with.
  saved.bunrunc.resources = resourcesForState(merged);
  writeState(opts.root, saved);
}

/** The -r document: a file, or "-" for stdin. */
export function readResourcesFile(path: string): Resources {
  let text: string;
  try {
    text = readDocument(path === "-" ? 0 : path);
  } catch (e) {
    throw new BunruncError("usage", `update: --resources: ${path === "-" ? "stdin" : clip(path)}: ${(e as Error).message}`);
  }
  try {
    return parseResourcesJson(text, path === "-" ? "--resources (stdin)" : clip(path));
  } catch (e) {
    throw new BunruncError("invalid-config", `update: ${(e as Error).message}`);
  }
}

/** runc's update flags as strings (unset = ""), and the two int flags (0 = unset). */
export interface UpdateFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  cpuShare?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuBurst?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpuIdle?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

const UNITS: Record<string, bigint> = { "": 1n, k: 1024n, m: 1024n ** 2n, g: 1024n ** 3n, t: 1024n ** 4n, p: 1024n ** 5n };

/** docker's RAMInBytes: "512", "64m", "1.5g", "100MiB" (binary units); "-1" stays -1. */
export function parseBytes(flag: string, s: string): bigint {
  if (s === "-1") return -1n;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(s);
  if (!m) throw new BunruncError("usage", `invalid value for ${flag}: invalid size: '${clip(s)}'`);
  const [int, frac = ""] = m[1]!.split(".");
  const unit = UNITS[(m[2] ?? "").toLowerCase()]!;
  const scale = 10n ** BigInt(frac.length);
  return (BigInt(int!) * scale + BigInt(frac || "0")) * unit / scale;
}

function parseInt64(flag: string, s: string, unsigned: boolean): bigint {
  if (!/^[-+]?\d+$/.test(s) || (unsigned && s.startsWith("-"))) throw new BunruncError("usage", `invalid value for ${flag}: strconv.Parse${unsigned ? "Uint" : "Int"}: parsing ${quote(s)}: invalid syntax`);
  return BigInt(s);
}

/** The LinuxResources delta runc builds from its flags. */
export function resourcesFromFlags(f: UpdateFlags): Resources {
  if (f.l3CacheSchema) throw new BunruncError("not-implemented", "Intel RDT/CAT: l3 cache schema is not enabled");
  if (f.memBwSchema) throw new BunruncError("not-implemented", "Intel RDT/MBA: memory bandwidth schema is not enabled");
  const r: Resources = { memory: {}, cpu: {}, blockIO: {}, pids: {} };
  const bytes = [
    ["memory", f.memory, "limit"],
    ["memory-swap", f.memorySwap, "swap"],
    ["memory-reservation", f.memoryReservation, "reservation"],
    ["kernel-memory", f.kernelMemory, "kernel"],
    ["kernel-memory-tcp", f.kernelMemoryTcp, "kernelTCP"],
  ] as const;
  for (const [flag, val, key] of bytes) if (val) r.memory![key] = parseBytes(flag, val);
  const unsignedCpu = [
    ["cpu-share", f.cpuShare, "shares"],
    ["cpu-period", f.cpuPeriod, "period"],
    ["cpu-burst", f.cpuBurst, "burst"],
    ["cpu-rt-period", f.cpuRtPeriod, "realtimePeriod"],
  ] as const;
  for (const [flag, val, key] of unsignedCpu) if (val) r.cpu![key] = parseInt64(flag, val, true);
  const signedCpu = [
    ["cpu-quota", f.cpuQuota, "quota"],
    ["cpu-rt-runtime", f.cpuRtRuntime, "realtimeRuntime"],
    ["cpu-idle", f.cpuIdle, "idle"],
  ] as const;
  for (const [flag, val, key] of signedCpu) if (val) r.cpu![key] = parseInt64(flag, val, false);
  if (f.cpusetCpus) r.cpu!.cpus = f.cpusetCpus;
  if (f.cpusetMems) r.cpu!.mems = f.cpusetMems;
  if (f.blkioWeight) r.blockIO!.weight = f.blkioWeight;
  if (f.pidsLimit) r.pids!.limit = f.pidsLimit;
  return r;
}
