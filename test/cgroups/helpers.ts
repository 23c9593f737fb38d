// Throwaway cgroups for controller tests: a unique absolute path per test, a shell child that
// joins the cgroup before it runs its command (so limits apply from its first instruction), and
// cleanup that kills only what the test spawned and removes the directories.
import { existsSync } from "node:fs";
import type { Subprocess } from "bun";
import { CgroupManager } from "../../src/cgroups/manager.ts";
import { cgroupVersion } from "../../src/cgroups/paths.ts";
import { uniqueId } from "../helpers/bundle.ts";

export const version = cgroupVersion();
export const isRoot = process.getuid?.() === 0;
export const canCgroup = isRoot && existsSync("/sys/fs/cgroup");
export const CG_SKIP = canCgroup ? "" : " [skipped: needs root and /sys/fs/cgroup]";
export const V1_ONLY = version === 1 ? "" : " [skipped: host is cgroup v2]";
export const V2_ONLY = version === 2 ? "" : " [skipped: host is cgroup v1; runs in the VM tier]";

export interface Throwaway {
  mgr: CgroupManager;
  /** A `sh -c` child that has joined the cgroup before running `script`. */
  spawn(script: string, opts?: { stdin?: "pipe" }): Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  cleanup(): Promise<void>;
}

export function throwaway(prefix = "cg"): Throwaway {
  const mgr = CgroupManager.forContainer(uniqueId(prefix), `/bunrunc-test-${uniqueId(prefix)}`);
  mgr.create();
  const children: Subprocess[] = [];
  return {
    mgr,
    spawn(script, opts = {}) {
      const join = mgr.dirs().map((d) => `echo $$ > ${d}/cgroup.procs`).join(" && ");
      const child = Bun.spawn(["sh", "-c", `${join} || exit 99\n${script}`], { stdin: opts.stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
      children.push(child);
      return child as Subprocess<"pipe" | "ignore", "pipe", "pipe">;
    },
    async cleanup() {
      if (mgr.isFrozen()) mgr.thaw();
      // Our children and whatever they forked inside the throwaway cgroup.
      for (let i = 0; i < 50 && mgr.pids().length; i++) {
        mgr.killAll(9);
        await Bun.sleep(10);
      }
      for (const c of children) {
        c.kill(9);
        await c.exited;
      }
      mgr.destroy();
    },
  };
}

/** Waits until `cond()` or the timeout; returns the last value. */
export async function waitFor<T>(cond: () => T, timeoutMs = 5000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let v = cond();
  while (!v && performance.now() < deadline) {
    await Bun.sleep(10);
    v = cond();
  }
  return v;
}
