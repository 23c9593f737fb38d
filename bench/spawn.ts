// Timed process launches. stdio goes to /dev/null and a per-run stderr file (never a pipe: a
// created container inherits our stdio, and a pipe would keep the caller waiting for EOF).
// Each launch also reports its CPU time: wait4's rusage of the launched process, which includes
// every descendant it reaped (a foreground container's init, runc's init stages). A process
// orphaned before it exits (the init a `create` leaves behind) is reaped elsewhere, so not counted.
import { closeSync, openSync, readFileSync, truncateSync } from "node:fs";

/** One or more launches: wall ms from spawn to reaped, and user+sys ms of the process trees. */
export interface Sample {
  ms: number;
  cpuMs: number;
  /** Processes launched. */
  launches: number;
  /** Of those, how many ran at least HEAVY_CPU_MS (see there). */
  heavy: number;
}

/**
 * A bunrunc front whose call the resident server did not take (none listening, or no Begin within
 * the front's admission bound) execs bunrunc-core and runs it directly: Bun's start alone costs
 * more CPU than this (~13 ms), while a served front costs ~0.5 ms, or 1.5-3 ms with the
 * foreground container it reaps. So a launch over it counts as a call that ran directly (an estimate, from CPU alone).
 */
export const HEAVY_CPU_MS = 5;

const sample = (ms: number, cpuEach: number[]): Sample => ({
  ms,
  cpuMs: cpuEach.reduce((a, b) => a + b, 0),
  launches: cpuEach.length,
  heavy: cpuEach.filter((c) => c >= HEAVY_CPU_MS).length,
});

const cpuMsOf = (usage: { cpuTime: { total: bigint | number } } | undefined): number => {
  if (!usage) throw new Error("bench: the runtime gave no rusage for a reaped process");
  return Number(usage.cpuTime.total) / 1000;
};

export class Launcher {
  private readonly errFd: number;

  constructor(private readonly errPath: string) {
    this.errFd = openSync(errPath, "w+");
  }

  /** Runs `cmd` to completion (`env` added to ours); wall and CPU. Throws with its stderr on failure. */
  measure(cmd: string[], cwd?: string, env?: Record<string, string>): Sample {
    truncateSync(this.errPath, 0);
    const t0 = performance.now();
    const r = Bun.spawnSync({ cmd, cwd, env: env && { ...process.env, ...env }, stdio: ["ignore", "ignore", this.errFd] });
    const ms = performance.now() - t0;
    if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: exit ${r.exitCode ?? r.signalCode}: ${this.stderr()}`);
    return sample(ms, [cpuMsOf(r.resourceUsage)]);
  }

  /** Runs `cmd` to completion; milliseconds from spawn to reaped. Throws with its stderr on failure. */
  timed(cmd: string[], cwd?: string, env?: Record<string, string>): number {
    return this.measure(cmd, cwd, env).ms;
  }

  /** Same, but returns the exit code instead of throwing (probing what a runtime supports). */
  tryRun(cmd: string[], cwd?: string, env?: Record<string, string>): { code: number; stderr: string } {
    truncateSync(this.errPath, 0);
    const r = Bun.spawnSync({ cmd, cwd, env: env && { ...process.env, ...env }, stdio: ["ignore", "ignore", this.errFd] });
    return { code: r.exitCode ?? 128, stderr: this.stderr() };
  }

  /** Starts every command at once; the wall time until all are reaped, and their CPU. */
  async concurrent(cmds: string[][]): Promise<Sample> {
    truncateSync(this.errPath, 0);
    const t0 = performance.now();
    const procs = cmds.map((cmd) => Bun.spawn({ cmd, stdio: ["ignore", "ignore", this.errFd] }));
    const codes = await Promise.all(procs.map((p) => p.exited));
    const ms = performance.now() - t0;
    const bad = codes.findIndex((c) => c !== 0);
    if (bad >= 0) throw new Error(`${cmds[bad]!.join(" ")}: exit ${codes[bad]}: ${this.stderr()}`);
    return sample(ms, procs.map((p) => cpuMsOf(p.resourceUsage())));
  }

  stderr(): string {
    return readFileSync(this.errPath, "utf8").trim().split("\n").slice(-3).join(" | ");
  }

  close(): void {
    closeSync(this.errFd);
  }
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, median, min: s[0]!, max: s[s.length - 1]! };
}
