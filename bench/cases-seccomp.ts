// (6) seccomp: compiling podman 4.3's default profile (its config.json's linux.seccomp) with
// src/seccomp, in this process. The first call in a fresh process is reported apart: a
// one-process-per-container CLI pays it on a cache miss.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CaseResult } from "./context.ts";
import { summarize } from "./spawn.ts";

const FIXTURE = join(import.meta.dir, "../spec-fixtures/valid/podman-4.3.json");

const WARMUP = 20;

type SeccompModule = typeof import("../src/seccomp/bench.ts");
type CompileModule = typeof import("../src/seccomp/compile.ts");

export async function seccompCompile(iterations: number): Promise<CaseResult> {
  const base = { id: "seccomp", title: "(6) seccomp compile, podman 4.3 profile", unit: "ms" as const, target: { absolute: 1 } };
  let bench: SeccompModule;
  let compile: CompileModule;
  try {
    bench = await import("../src/seccomp/bench.ts");
    compile = await import("../src/seccomp/compile.ts");
  } catch (e) {
    return { ...base, results: {}, notes: [], skipped: `src/seccomp not available (${(e as Error).message})` };
  }
  let profile: Record<string, unknown>;
  try {
    profile = JSON.parse(readFileSync(FIXTURE, "utf8")).linux.seccomp;
  } catch (e) {
    return { ...base, results: {}, notes: [], skipped: `fixture ${FIXTURE}: ${(e as Error).message}` };
  }
  const t0 = performance.now();
  compile.compileSeccomp({ ...profile, benchFirst: Date.now() }, "linux.seccomp");
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < iterations + WARMUP; i++) {
    const t = performance.now();
    // A distinct key per round, or the memory cache answers.
    compile.compileSeccomp({ ...profile, benchRound: i }, "linux.seccomp");
    if (i >= WARMUP) times.push(performance.now() - t);
  }
  const r = bench.benchSeccompCompile(profile, iterations);
  return {
    ...base,
    results: { bunrunc: summarize(times) },
    notes: [
      `${iterations} fresh compiles (memory cache bypassed); first call in this process ${firstMs.toFixed(2)} ms`,
      `disk-cache hit (what a repeated create pays) ${r.diskHitMedianMs.toFixed(3)} ms; ${r.instructions} BPF instructions, longest path ${r.longestPath}`,
      "runc compiles with libseccomp inside `runc init`; no in-process counterpart to time",
    ],
  };
}
