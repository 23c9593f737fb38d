// The limits a container runs with, kept in its state (as runc's state keeps its cgroup config):
// linux.resources at create, then every `update` merged in, so the state says what was applied.
import type { Resources } from "../config/types.ts";

type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };

/**
 * What `update` changed: a field counts when the cgroup code would apply it (numbers other than
 * the spec's "unset" 0, non-empty strings and lists, booleans), the rest keeps the recorded value
 * (docker and containerd send 0 and "" for every field they leave alone). Devices are not
 * updated (runc neither): they stay as recorded.
 */
export function mergeResources(recorded: Resources | undefined, delta: Resources): Resources {
  const out = structuredClone(recorded ?? {}) as Record<string, Json>;
  for (const [group, value] of Object.entries(delta as Record<string, Json>)) {
    if (group === "devices" || value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      if (value.length) out[group] = value;
    } else if (typeof value === "object") {
      const into = (out[group] && typeof out[group] === "object" && !Array.isArray(out[group]) ? out[group] : {}) as Record<string, Json>;
      for (const [k, v] of Object.entries(value)) if (applies(v)) into[k] = v;
      if (Object.keys(into).length) out[group] = into;
    }
  }
  return out as Resources;
}

function applies(v: Json | undefined): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "number" || typeof v === "bigint") return BigInt(v) !== 0n;
  if (typeof v === "string" || Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** A copy the state's JSON.stringify can write: int64/uint64 bigints as exact integer literals. */
export function resourcesForState(r: Resources | undefined): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === "bigint") return rawJson(v.toString());
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(r ?? {});
}
