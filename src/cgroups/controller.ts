// What every per-controller file (v1/<name>.ts, v2/<name>.ts) exports, and the loop helpers.
import type { Stats } from "./stats.ts";
import type { ApplyContext, Resources } from "./types.ts";

export interface Controller {
  /** v1: the hierarchy's controller name; v2: the name in cgroup.controllers ("" = core files). */
  name: string;
  /** The first linux.resources field this controller would have to write, if any. */
  wants(r: Resources): string | undefined;
  /** Writes what `r` asks for; fields that are absent are left alone. Throws CgroupError. */
  apply(dir: string, r: Resources, ctx: ApplyContext): void;
  /** Fills its part of `s` from the cgroup's files. */
  stats?(dir: string, s: Stats): void;
}

/** The first `path` whose value is present (not undefined/null/empty array/empty object). */
export function firstPresent(obj: object | undefined, prefix: string, keys: string[]): string | undefined {
  if (!obj) return undefined;
  for (const k of keys) {
    const v = (obj as Record<string, unknown>)[k];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    return `${prefix}.${k}`;
  }
  return undefined;
}
