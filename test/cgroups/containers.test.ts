// Resource control on real containers (the Zig init, the library's create/start/run): limits from
// config.json enforced inside, and the verbs acting on a live container. Runs on the v1 host and
// in the cgroup v2 VM tier.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Resources } from "../../src/cgroups/types.ts";
import * as bunrunc from "../../src/lib/index.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, cleanRuns, SKIP_REASON, withOut } from "../lib/container-helper.ts";
import { systemdRunning } from "../../src/cgroups/paths.ts";
import { version, waitFor } from "./helpers.ts";

const MiB = 1024 * 1024;
const runIn = cleanRuns();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function withResources(r: Resources): (spec: Spec) => void {
  return (spec) => {
    spec.linux!.resources = { ...(spec.linux!.resources as object), ...r };
  };
}

interface Live {
  id: string;
  root: string;
  b: TestBundle;
  out: string;
  state(): bunrunc.ContainerState;
}

/** A created and started container running `script` (detached). */
async function started(script: string, r: Resources = {}): Promise<Live> {
  const spec = defaultSpec(["sh", "-c", script]);
  const b = makeBundle(spec);
  const id = uniqueId("cgc");
  cleanups.push(() => b.cleanup());
  const out = withOut(spec, b);
  withResources(r)(spec);
  b.writeSpec(spec);
  await bunrunc.create({ root: b.root, id, bundle: b.bundle });
  cleanups.push(() => bunrunc.delete({ root: b.root, id, force: true }));
  await bunrunc.start({ root: b.root, id });
  const state = () => JSON.parse(readFileSync(join(b.root, id, "state.json"), "utf8")) as bunrunc.ContainerState;
  return { id, root: b.root, b, out, state };
}

/** The container's cgroup file for `ctrl` (v1 hierarchy; ignored on v2). */
function cgFile(c: Live, ctrl: string, file: string): string {
  const s = c.state().bunrunc;
  return readFileSync(join(s.cgroupVersion === 2 ? s.cgroupPaths[""]! : s.cgroupPaths[ctrl]!, file), "utf8").trim();
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
}

describe.skipIf(!canRunContainers)(`containers under cgroup v${version}${SKIP_REASON}`, () => {
  test("a memory limit OOM-kills the container: run exits 137", async () => {
    const r = await runIn("x=$(busybox head -c 200000000 /dev/zero | busybox tr '\\0' a); echo survived", withResources({ memory: { limit: 16 * MiB, swap: 16 * MiB } }));
    expect(r.code).toBe(137);
    expect(r.out).not.toContain("survived");
  });

  test("events reports the OOM kill, streams on after the stop, ends when delete removes the cgroup", async () => {
    const c = await started("sleep 1; x=$(busybox head -c 200000000 /dev/zero | busybox tr '\\0' a); echo survived", { memory: { limit: 16 * MiB, swap: 16 * MiB } });
    const seen: string[] = [];
    let ended = false;
    const stream = (async () => {
      for await (const e of bunrunc.events({ root: c.root, id: c.id, intervalMs: 50 })) seen.push(e.type);
      ended = true;
    })();
    expect(await waitFor(() => bunrunc.state({ root: c.root, id: c.id }).status === "stopped", 30_000)).toBe(true);
    expect(await waitFor(() => seen.includes("oom"))).toBe(true);
    // Stats of the stopped container's cgroup keep coming until it is deleted.
    const after = seen.length;
    expect(await waitFor(() => seen.length >= after + 2)).toBe(true);
    expect(ended).toBe(false);
    await bunrunc.delete({ root: c.root, id: c.id });
    await stream;
    expect(ended).toBe(true);
  });

  test("a pids limit makes fork fail inside", async () => {
    const r = await runIn("for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; echo done", withResources({ pids: { limit: 5 } }));
    expect(r.out).toMatch(/can't fork|Resource temporarily unavailable/);
  });

  test("a denied device fails to open with EPERM; runc's default devices work", async () => {
    const r = await runIn("head -c 0 < /dev/kmsg && echo opened; head -c 3 /dev/zero | wc -c", (spec) => {
      spec.linux!.devices = [{ path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 0o644 }];
    });
    expect(r.out).toContain("Operation not permitted");
    expect(r.out).not.toContain("opened");
    expect(r.out).toMatch(/^3$/m);
  });

  test("a cpu quota throttles the container, visible in events --stats", async () => {
    const c = await started("while :; do :; done", { cpu: { quota: 10000, period: 100000 } });
    await Bun.sleep(700);
    const events = [];
    for await (const e of bunrunc.events({ root: c.root, id: c.id, stats: true })) events.push(e);
    expect(events).toHaveLength(1);
    const cpu = events[0]!.data!.cpu as { throttling: { periods: number; throttledPeriods: number } };
    expect(cpu.throttling.periods).toBeGreaterThan(0);
    expect(cpu.throttling.throttledPeriods).toBeGreaterThan(0);
  });

  test("update changes live limits: the files, and the shell's next fork hits the new pids limit", async () => {
    const c = await started("while :; do sleep 0.05; done 2>/dev/null", { memory: { limit: 64 * MiB } });
    const refused = () => Number(/^max (\d+)$/m.exec(cgFile(c, "pids", "pids.events"))?.[1] ?? 0);
    expect(refused()).toBe(0);
    await bunrunc.update({ root: c.root, id: c.id, resources: { memory: { limit: 48 * MiB }, pids: { limit: 1 } } });
    expect(cgFile(c, "memory", version === 1 ? "memory.limit_in_bytes" : "memory.max")).toBe(String(48 * MiB));
    expect(cgFile(c, "pids", "pids.max")).toBe("1");
    // The shell's next fork is refused by the new limit.
    expect(await waitFor(() => refused() > 0)).toBe(true);
  });

  test("pause freezes the container (state paused, no CPU time); resume resumes it", async () => {
    const c = await started("while :; do :; done");
    const pid = c.state().pid;
    await bunrunc.pause({ root: c.root, id: c.id });
    expect(bunrunc.state({ root: c.root, id: c.id }).status).toBe("paused");
    const before = cpuTicks(pid);
    await Bun.sleep(300);
    expect(cpuTicks(pid)).toBe(before);
    await bunrunc.resume({ root: c.root, id: c.id });
    expect(bunrunc.state({ root: c.root, id: c.id }).status).toBe("running");
    expect(await waitFor(() => cpuTicks(pid) > before + 5)).toBe(true);
  });

  test("ps lists the container's processes by host pid; delete --force removes the cgroup", async () => {
    const c = await started("sleep 100 & sleep 101 & wait");
    const pid = c.state().pid;
    expect(await waitFor(() => bunrunc.ps({ root: c.root, id: c.id }).length === 3)).toBe(true);
    const pids = bunrunc.ps({ root: c.root, id: c.id });
    expect(pids).toContain(pid);
    for (const p of pids) expect(readFileSync(`/proc/${p}/cmdline`, "utf8")).toMatch(/^(sh|sleep)\0/);
    const dirs = Object.values(c.state().bunrunc.cgroupPaths);
    await bunrunc.delete({ root: c.root, id: c.id, force: true });
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  });

  test("the state records linux.resources exactly (int64 literals too), then each update merged in", async () => {
    const spec = defaultSpec(["sleep", "100"]);
    const b = makeBundle(spec);
    cleanups.push(() => b.cleanup());
    withResources({ memory: { limit: 1 }, pids: { limit: 100 } })(spec);
    b.writeSpec(spec);
    // 2^63-1 (unlimited) has no exact JavaScript number: it must reach the state as written.
    const config = join(b.bundle, "config.json");
    writeFileSync(config, readFileSync(config, "utf8").replace(/"limit": 1\b/, '"limit": 9223372036854775807'));
    const id = uniqueId("cgc");
    await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    cleanups.push(() => bunrunc.delete({ root: b.root, id, force: true }));
    const stateText = () => readFileSync(join(b.root, id, "state.json"), "utf8");
    expect(stateText()).toContain('"memory":{"limit":9223372036854775807}');
    await bunrunc.update({ root: b.root, id, resources: { memory: { limit: 48 * MiB }, pids: { limit: 0 } } });
    expect(JSON.parse(stateText()).bunrunc.resources).toMatchObject({ memory: { limit: 48 * MiB }, pids: { limit: 100 } });
  });

  test("a limit the host cannot apply fails create naming the field, leaving nothing", async () => {
    const r = version === 1 ? { unified: { "memory.high": "1000000" } } : { memory: { swappiness: 30 } };
    const spec = defaultSpec(["true"]);
    const b = makeBundle(spec);
    cleanups.push(() => b.cleanup());
    withResources(r)(spec);
    b.writeSpec(spec);
    const id = uniqueId("bad");
    const err = await bunrunc.create({ root: b.root, id, bundle: b.bundle }).catch((e) => e as Error);
    expect(String((err as Error).message)).toMatch(version === 1 ? /^create: linux\.resources\.unified: / : /^create: linux\.resources\.memory\.swappiness: /);
    expect(existsSync(join(b.root, id))).toBe(false);
  });

  test.skipIf(systemdRunning())("--systemd-cgroup where systemd does not run: one clear error, nothing left [skipped where systemd runs]", async () => {
    const spec = defaultSpec(["true"]);
    const b = makeBundle(spec);
    cleanups.push(() => b.cleanup());
    spec.linux!.cgroupsPath = "system.slice:bunrunc:test";
    b.writeSpec(spec);
    const id = uniqueId("sd");
    const err = await bunrunc.create({ root: b.root, id, bundle: b.bundle, systemdCgroup: true }).catch((e) => e as Error);
    expect((err as Error).message).toMatch(/^create: --systemd-cgroup: systemd is not running on this host/);
    expect(existsSync(join(b.root, id))).toBe(false);
  });
});
