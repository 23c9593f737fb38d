// Timing helpers for `bun run bench` (not used by the runtime): how long compiling a profile
// takes, fresh and from the disk cache, and how long the resulting filter's paths are.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheKey, readCached } from "./cache.ts";
import { compileSeccomp } from "./compile.ts";
import { nativeArch } from "./profile.ts";

export interface SeccompBench {
  /** Full compile (check, encode, Zig, cache key), memory cache bypassed: median and 90th percentile. */
  compileMedianMs: number;
  compileP90Ms: number;
  /** The path a repeated `bunrunc create` takes: cache key + reading and verifying <hash>.bpf. */
  diskHitMedianMs: number;
  instructions: number;
  /** Worst-case instructions one syscall runs, without and with argument checks. */
  plainLongestPath: number;
  longestPath: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

/** `profile` is a linux.seccomp object (e.g. podman's config.json linux.seccomp). */
export function benchSeccompCompile(profile: Record<string, unknown>, iterations = 200): SeccompBench {
  const times: number[] = [];
  let last;
  for (let i = 0; i < iterations + 20; i++) {
    const t = performance.now();
    // A distinct key per round: the memory cache would otherwise answer.
    last = compileSeccomp({ ...profile, benchRound: i }, "linux.seccomp")!;
    if (i >= 20) times.push(performance.now() - t);
  }
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-seccomp-bench-"));
  const hits: number[] = [];
  try {
    compileSeccomp(profile, "linux.seccomp", { cacheDir: dir });
    for (let i = 0; i < iterations; i++) {
      const t = performance.now();
      readCached(dir, cacheKey(profile, nativeArch()));
      hits.push(performance.now() - t);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    compileMedianMs: median(times),
    compileP90Ms: p90(times),
    diskHitMedianMs: median(hits),
    instructions: last!.instructions,
    plainLongestPath: last!.plainLongestPath,
    longestPath: last!.longestPath,
  };
}
