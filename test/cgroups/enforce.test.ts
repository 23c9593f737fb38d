// Limits the kernel enforces, observed on real processes that joined a throwaway cgroup before
// running: the OOM killer, fork failing at the pids limit, CPU throttling in the stats, and a
// device the rules deny failing to open with EPERM (v1 devices cgroup / v2 eBPF program).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import type { Resources } from "../../src/cgroups/types.ts";
import { CG_SKIP, canCgroup, throwaway, version, type Throwaway } from "./helpers.ts";

const MiB = 1024 * 1024;
let t: Throwaway | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

function limited(r: Resources): Throwaway {
  t = throwaway("enf");
  t.mgr.apply(r);
  return t;
}

async function run(tw: Throwaway, script: string): Promise<{ code: number; out: string; err: string }> {
  const p = tw.spawn(script);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

describe.skipIf(!canCgroup)(`enforcement on cgroup v${version}${CG_SKIP}`, () => {
  test("a memory limit OOM-kills the process that exceeds it (137); the stats show the peak at the limit", async () => {
    const tw = limited({ memory: { limit: 16 * MiB, swap: 16 * MiB } });
    const r = await run(tw, "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived");
    expect(r.code).toBe(137);
    expect(r.out).not.toContain("survived");
    const s = tw.mgr.stats();
    expect(s.memory.usage.limit).toBe(BigInt(16 * MiB));
    // The peak reached the limit before the kill.
    expect(s.memory.usage.max).toBeGreaterThan(BigInt(15 * MiB));
  });

  test("a pids limit makes fork fail", async () => {
    const tw = limited({ pids: { limit: 4 } });
    const r = await run(tw, "for i in 1 2 3 4 5 6 7 8; do sleep 5 </dev/null >/dev/null 2>&1 & done; echo done");
    expect(r.err).toMatch(/fork|Resource temporarily unavailable/i);
    expect(tw.mgr.stats().pids.limit).toBe(4n);
  });

  test("a cpu quota throttles a busy loop, visible in the stats", async () => {
    const tw = limited({ cpu: { quota: 10000, period: 100000 } });
    const p = tw.spawn("while :; do :; done");
    await Bun.sleep(600);
    p.kill(9);
    await p.exited;
    const th = tw.mgr.stats().cpu.throttling;
    expect(th.periods).toBeGreaterThan(0n);
    expect(th.throttledPeriods).toBeGreaterThan(0n);
    expect(th.throttledTime).toBeGreaterThan(0n);
  });

  test.skipIf(!existsSync("/dev/kmsg"))(`a denied device fails to open with EPERM; allowed ones work${existsSync("/dev/kmsg") ? "" : " [skipped: no /dev/kmsg]"}`, async () => {
    const tw = limited({ devices: [{ allow: false, access: "rwm" }] });
    const denied = await run(tw, "head -c 0 < /dev/kmsg && echo opened; head -c 1 /dev/zero | wc -c");
    expect(denied.err).toContain("Operation not permitted");
    expect(denied.out).not.toContain("opened");
    expect(denied.out.trim()).toBe("1"); // /dev/zero is one of runc's always-allowed devices
    const t2 = throwaway("enf");
    try {
      t2.mgr.apply({ devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 11, access: "r" }] });
      const allowed = await run(t2, "head -c 0 < /dev/kmsg && echo opened");
      expect(allowed.out).toContain("opened");
      const write = await run(t2, "echo hi > /dev/kmsg && echo wrote");
      expect(write.err).toContain("Operation not permitted");
    } finally {
      await t2.cleanup();
    }
  });
});
