// The systemd driver's unit properties from linux.resources (pure: nothing talks to systemd),
// the D-Bus signature splitting its message builder relies on, and, on a host without systemd,
// --systemd-cgroup's one-line refusal through the CLI.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { containerDevices, reduceRules } from "../../src/cgroups/devices.ts";
import { systemdRunning } from "../../src/cgroups/paths.ts";
import { splitSignature } from "../../src/cgroups/systemd/bus.ts";
import { deviceProperties, INFINITY, listToMask, quotaPerSecond, resourceProperties, scopeProperties, updateProperties } from "../../src/cgroups/systemd/properties.ts";
import { CgroupError, type Resources } from "../../src/cgroups/types.ts";
import { sharesToWeight } from "../../src/cgroups/v2/cpu.ts";
import { defaultSpec, makeBundle, type TestBundle } from "../helpers/bundle.ts";

const MiB = 1024 * 1024;
const props = (version: 1 | 2, r: Resources) => Object.fromEntries(resourceProperties(version, r, { devices: false }).map(([n, , v]) => [n, v]));

describe("systemd unit properties from linux.resources", () => {
  test("cgroup v2: memory, swap (memory+swap -> swap alone), CPU weight from shares, quota, tasks, IO weight", () => {
    expect(props(2, { memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB }, cpu: { shares: 512, quota: 50000, period: 100000 }, pids: { limit: 77 }, blockIO: { weight: 500 } })).toEqual({
      MemoryMax: BigInt(64 * MiB),
      MemoryLow: BigInt(32 * MiB),
      MemorySwapMax: BigInt(32 * MiB),
      CPUWeight: sharesToWeight(512n),
      CPUQuotaPeriodUSec: 100000n,
      CPUQuotaPerSecUSec: 500000n,
      TasksMax: 77n,
      IOWeight: 4950n,
    });
  });

  test("cgroup v1: MemoryLimit, CPUShares and BlockIOWeight instead", () => {
    expect(props(1, { memory: { limit: 64 * MiB }, cpu: { shares: 512 }, blockIO: { weight: 500 } })).toEqual({ MemoryLimit: BigInt(64 * MiB), CPUShares: 512n, BlockIOWeight: 500n });
  });

  test("-1 is infinity; 0 and absent fields are left out", () => {
    expect(props(2, { memory: { limit: -1 }, pids: { limit: -1 } })).toEqual({ MemoryMax: INFINITY, MemorySwapMax: INFINITY, TasksMax: INFINITY });
    expect(props(2, { memory: { limit: 0 }, pids: { limit: 0 }, cpu: { shares: 0 } })).toEqual({});
  });

  test("a quota rounds up to whole percent; no quota with a period is infinity", () => {
    expect(quotaPerSecond(12345n, 100000n)).toBe(130000n);
    expect(quotaPerSecond(50000n, null)).toBe(500000n);
    expect(quotaPerSecond(null, 50000n)).toBe(INFINITY);
    expect(props(2, { cpu: { period: 50000 } })).toEqual({ CPUQuotaPeriodUSec: 50000n, CPUQuotaPerSecUSec: INFINITY });
  });

  test("cpusets become systemd's bitmasks (byte k: ids 8k..8k+7); bad lists fail by field", () => {
    expect([...listToMask("0-3,5", "f")]).toEqual([0b101111]);
    expect([...listToMask("9", "f")]).toEqual([0, 0b10]);
    expect(props(2, { cpu: { cpus: "1", mems: "0" } })).toEqual({ AllowedCPUs: new Uint8Array([2]), AllowedMemoryNodes: new Uint8Array([1]) });
    expect(() => props(2, { cpu: { cpus: "1-x" } })).toThrow(/^linux\.resources\.cpu\.cpus: invalid CPU or memory node list/);
  });

  test("swap without a memory limit is refused by field, before anything is made", () => {
    expect(() => props(2, { memory: { swap: 64 * MiB } })).toThrow(CgroupError);
    expect(() => props(2, { memory: { swap: 64 * MiB } })).toThrow(/^linux\.resources\.memory\.swap: /);
  });

  test("unified keys systemd knows become properties (memory.high -> MemoryHigh, cpu.max, pids.max)", () => {
    expect(props(2, { unified: { "memory.high": "1048576", "pids.max": "max", "cpu.max": "20000 100000", "io.max": "8:0 rbps=1" } })).toEqual({ MemoryHigh: 1048576n, TasksMax: INFINITY, CPUQuotaPeriodUSec: 100000n, CPUQuotaPerSecUSec: 200000n });
  });

  test("devices: an allow list is DevicePolicy strict with /dev/char paths, /proc/devices groups and char-*", () => {
    const procDevices = "Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n";
    const [policy, allow] = deviceProperties(containerDevices([{ allow: false, access: "rwm" }, { allow: true, type: "b", major: 8, minor: -1, access: "r" }]), undefined, procDevices);
    expect(policy).toEqual(["DevicePolicy", "s", "strict"]);
    const list = allow![2] as [string, string][];
    expect(list).toContainEqual(["char-*", "m"]);
    expect(list).toContainEqual(["block-*", "m"]);
    expect(list).toContainEqual(["/dev/char/1:3", "rwm"]);
    expect(list).toContainEqual(["char-pts", "rwm"]);
    expect(list).toContainEqual(["block-sd", "r"]);
  });

  test("devices: allow-all is policy auto; deny rules systemd cannot say leave its list empty, with a warning", () => {
    expect(deviceProperties(reduceRules([{ allow: true, access: "rwm" }]))).toEqual([["DevicePolicy", "s", "auto"], ["DeviceAllow", "a(ss)", []]]);
    const warned: string[] = [];
    expect(deviceProperties(reduceRules([{ allow: true, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 9, access: "rwm" }]), (m) => warned.push(m))).toEqual([["DevicePolicy", "s", "strict"], ["DeviceAllow", "a(ss)", []]]);
    expect(warned).toHaveLength(1);
  });

  test("update: what the delta sets, with the recorded limit beside a new swap and the recorded period beside a new quota", () => {
    const recorded = { memory: { limit: 16 * MiB, swap: 16 * MiB }, cpu: { quota: 20000, period: 50000 }, devices: [{ allow: true, access: "rwm" }] };
    const up = (delta: Resources) => Object.fromEntries(updateProperties(2, delta, recorded).map(([n, , v]) => [n, v]));
    // docker's update: every other field 0; a larger memory limit alone leaves swap to the kernel.
    expect(up({ memory: { limit: 128 * MiB, swap: 0 }, cpu: { shares: 0 } })).toEqual({ MemoryMax: BigInt(128 * MiB) });
    expect(up({ memory: { swap: 48 * MiB } })).toEqual({ MemoryMax: BigInt(16 * MiB), MemorySwapMax: BigInt(32 * MiB) });
    expect(up({ cpu: { quota: 25000 } })).toEqual({ CPUQuotaPeriodUSec: 50000n, CPUQuotaPerSecUSec: 500000n });
  });

  test("the scope's own properties: description, slice, the init's pid, delegation, accounting", () => {
    const p = Object.fromEntries(scopeProperties(2, { slice: "system.slice", pid: 1234, description: "bunrunc container c1" }).map(([n, s, v]) => [n, [s, v]]));
    expect(p.PIDs).toEqual(["au", [1234]]);
    expect(p.Delegate).toEqual(["b", true]);
    expect(p.Slice).toEqual(["s", "system.slice"]);
    expect(p.DefaultDependencies).toEqual(["b", false]);
    expect(p.MemoryAccounting).toEqual(["b", true]);
  });

  test("D-Bus signatures split into complete types", () => {
    expect(splitSignature("ssa(sv)a(sa(sv))")).toEqual(["s", "s", "a(sv)", "a(sa(sv))"]);
    expect(splitSignature("aya{sv}t")).toEqual(["ay", "a{sv}", "t"]);
  });
});

const BUNRUNC = join(resolve(import.meta.dir, "../.."), "dist/bunrunc");
const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.cleanup()));

describe.skipIf(systemdRunning() || !existsSync(BUNRUNC) || process.getuid?.() !== 0)(`--systemd-cgroup where systemd does not run${systemdRunning() ? " [skipped: systemd runs here]" : ""}`, () => {
  test("bunrunc --systemd-cgroup run: exit 1, one line naming the flag and why; nothing left", () => {
    const spec = defaultSpec(["true"]);
    spec.linux!.cgroupsPath = "system.slice:bunrunc:nosd";
    const b = makeBundle(spec);
    bundles.push(b);
    const id = `nosd${process.pid}`;
    const r = Bun.spawnSync([BUNRUNC, "--root", b.root, "--systemd-cgroup", "run", "--bundle", b.bundle, id], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(1);
    // runc's logrus line: time, level and the message, naming the flag and the reason.
    const lines = r.stderr.toString().trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^time="[^"]+" level=error msg="create: --systemd-cgroup: systemd is not running on this host \(no \/run\/systemd\/system\), so the systemd cgroup driver cannot be used; run without --systemd-cgroup"$/);
    expect(existsSync(join(b.root, id))).toBe(false);
  });

  test("features does not claim the systemd driver here", () => {
    const r = Bun.spawnSync([BUNRUNC, "features"], { stdout: "pipe" });
    expect(JSON.parse(r.stdout.toString()).linux.cgroup.systemd).toBe(false);
  });
});
