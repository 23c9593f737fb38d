// What every cgroup controller shares: linux.resources' types (inferred from the schemas,
// src/config/types.ts), the one error type every controller throws, and the spec's "unset" rules.

export type { BlockIOResources, CpuResources, DeviceRule, Int, MemoryResources, Resources, ThrottleDevice, WeightDevice } from "../config/types.ts";
import type { Int, Resources } from "../config/types.ts";

/** How a controller is being asked to apply: at create (everything) or by `update` (a delta). */
export interface ApplyContext {
  update: boolean;
  /** Rootless cgroups (src/base/rootless.ts): the device controller is skipped, as runc does. */
  rootless?: boolean;
}

/**
 * A limit that could not be applied. `field` is the JSON path under linux.resources; the message
 * is one line: what, where, why.
 */
export class CgroupError extends Error {
  override readonly name = "CgroupError";
  constructor(
    readonly field: string,
    why: string,
  ) {
    super(field ? `${field}: ${why}` : why);
  }
}

export const FIELD = "linux.resources";

/**
 * Kernel memory limits (memory.kernel, memory.kernelTCP) are deprecated by the runtime-spec;
 * kernels since 5.16 accept and ignore kmem limits on v1 and v2 has no such files. runc ignores
 * both with one warning, and so does bunrunc: no controller writes them. The warning, when the
 * resources set either (0 is the spec's "unset", what docker's update sends for every field).
 */
export function kernelMemoryWarning(r: Resources | undefined): string | undefined {
  const m = r?.memory;
  const set = (["kernel", "kernelTCP"] as const).filter((k) => isSet(m?.[k])).map((k) => `${FIELD}.memory.${k}`);
  return set.length ? `${set.join(", ")}: kernel memory limits are deprecated and ignored (as runc does)` : undefined;
}

/** Present and not the spec's "unset" zero. */
export function isSet(v: Int | undefined | null): v is Int {
  return v !== undefined && v !== null && BigInt(v) !== 0n;
}

const BLOCK_IO_LISTS = ["weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"] as const;

/** The first linux.resources.blockIO field that needs the block I/O controller (v1 blkio, v2 io). */
export function blockIoWants(r: Resources): string | undefined {
  const b = r.blockIO;
  if (!b) return undefined;
  const at = `${FIELD}.blockIO`;
  if (isSet(b.weight)) return `${at}.weight`;
  if (isSet(b.leafWeight)) return `${at}.leafWeight`;
  for (const k of BLOCK_IO_LISTS) if ((b[k] ?? []).length) return `${at}.${k}`;
  return undefined;
}

export function big(v: Int): bigint {
  return BigInt(v);
}
