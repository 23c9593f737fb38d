// Every linux.resources field written through the manager into a throwaway cgroup and read back
// from the kernel's files, on whichever version this host runs (v1 here, v2 in the VM tier).
// A field the host cannot apply must fail with an error naming it (kernel memory limits excepted:
// deprecated, ignored as runc ignores them).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupDevicesCount } from "../../src/ffi-devices.ts";
import type { CgroupManager } from "../../src/cgroups/manager.ts";
import { CgroupError, kernelMemoryWarning, type Resources } from "../../src/cgroups/types.ts";
import { memory as memoryV1 } from "../../src/cgroups/v1/memory.ts";
import { memory as memoryV2 } from "../../src/cgroups/v2/memory.ts";
import { sharesToWeight } from "../../src/cgroups/v2/cpu.ts";
import { blkioToIoWeight } from "../../src/cgroups/v2/io.ts";
import { CG_SKIP, canCgroup, throwaway, version, type Throwaway } from "./helpers.ts";

const MiB = 1024 * 1024;
let t: Throwaway | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

function fresh(): CgroupManager {
  t = throwaway("res");
  return t.mgr;
}

/** The file of `ctrl` (v1 hierarchy name; ignored on v2), trimmed. */
function read(mgr: CgroupManager, ctrl: string, file: string): string {
  const dir = version === 2 ? mgr.dir : mgr.paths[ctrl]!;
  return readFileSync(join(dir, file), "utf8").trim();
}

function fails(mgr: CgroupManager, r: Resources, field: RegExp | string, why?: string): void {
  let err: unknown;
  try {
    mgr.apply(r);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CgroupError);
  expect((err as CgroupError).field).toMatch(field);
  if (why) expect((err as CgroupError).message).toContain(why);
}

/** A controller this host offers for the container's cgroup. */
function offers(mgr: CgroupManager, ctrl: string): boolean {
  if (version === 1) return Boolean(mgr.paths[ctrl]) && existsSync(mgr.paths[ctrl]!);
  return readFileSync(join(mgr.dir, "cgroup.controllers"), "utf8").split(/\s+/).includes(ctrl);
}

/** A real block device "major:minor" for throttle rules, if the host has one. */
function blockDevice(): string | undefined {
  for (const d of existsSync("/sys/block") ? readdirSync("/sys/block") : []) {
    if (d.startsWith("loop") || d.startsWith("ram")) continue;
    const dev = join("/sys/block", d, "dev");
    if (existsSync(dev)) return readFileSync(dev, "utf8").trim();
  }
  return undefined;
}
const BLOCK = blockDevice();

describe.skipIf(!canCgroup)(`resources on cgroup v${version}${CG_SKIP}`, () => {
  test("memory: limit, reservation, swap", () => {
    const mgr = fresh();
    mgr.apply({ memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB } });
    if (version === 1) {
      expect(read(mgr, "memory", "memory.limit_in_bytes")).toBe(String(64 * MiB));
      expect(read(mgr, "memory", "memory.soft_limit_in_bytes")).toBe(String(32 * MiB));
      expect(read(mgr, "memory", "memory.memsw.limit_in_bytes")).toBe(String(128 * MiB));
    } else {
      expect(read(mgr, "memory", "memory.max")).toBe(String(64 * MiB));
      expect(read(mgr, "memory", "memory.low")).toBe(String(32 * MiB));
      expect(read(mgr, "memory", "memory.swap.max")).toBe(String(64 * MiB));
    }
  });

  test("memory: raising limit and swap together and back down (write order)", () => {
    const mgr = fresh();
    mgr.apply({ memory: { limit: 32 * MiB, swap: 32 * MiB } });
    mgr.apply({ memory: { limit: 256 * MiB, swap: 512 * MiB } }, { update: true });
    mgr.apply({ memory: { limit: 16 * MiB, swap: 16 * MiB } }, { update: true });
    expect(read(mgr, "memory", version === 1 ? "memory.limit_in_bytes" : "memory.max")).toBe(String(16 * MiB));
    mgr.apply({ memory: { limit: -1 } }, { update: true });
    expect(read(mgr, "memory", version === 1 ? "memory.limit_in_bytes" : "memory.max")).toMatch(version === 1 ? /^9223372036854\d+$/ : /^max$/);
  });

  test("memory: swappiness and disableOOMKiller (v1) / named errors (v2)", () => {
    const mgr = fresh();
    if (version === 1) {
      mgr.apply({ memory: { swappiness: 30, disableOOMKiller: true } });
      expect(read(mgr, "memory", "memory.swappiness")).toBe("30");
      expect(read(mgr, "memory", "memory.oom_control")).toContain("oom_kill_disable 1");
      fails(mgr, { memory: { swappiness: 101 } }, "linux.resources.memory.swappiness");
    } else {
      fails(mgr, { memory: { swappiness: 30 } }, "linux.resources.memory.swappiness");
      fails(mgr, { memory: { disableOOMKiller: true } }, "linux.resources.memory.disableOOMKiller");
    }
  });

  test("memory: kernel memory limits are ignored (no kmem file written, no error); the limit beside them applies", () => {
    const mgr = fresh();
    const kmem = version === 1 ? [read(mgr, "memory", "memory.kmem.limit_in_bytes"), read(mgr, "memory", "memory.kmem.tcp.limit_in_bytes")] : [];
    mgr.apply({ memory: { limit: 64 * MiB, kernel: 16 * MiB, kernelTCP: 256 * 4096 } });
    expect(read(mgr, "memory", version === 1 ? "memory.limit_in_bytes" : "memory.max")).toBe(String(64 * MiB));
    if (version === 1) expect([read(mgr, "memory", "memory.kmem.limit_in_bytes"), read(mgr, "memory", "memory.kmem.tcp.limit_in_bytes")]).toEqual(kmem);
    // Alone they do not even need the memory controller.
    for (const memory of [memoryV1, memoryV2]) expect(memory.wants({ memory: { kernel: 16 * MiB, kernelTCP: 4096 } })).toBeUndefined();
    expect(kernelMemoryWarning({ memory: { limit: 64 * MiB, kernel: 0, kernelTCP: 0 } })).toBeUndefined();
    expect(kernelMemoryWarning({ memory: { kernel: 16 * MiB, kernelTCP: 4096 } })).toBe("linux.resources.memory.kernel, linux.resources.memory.kernelTCP: kernel memory limits are deprecated and ignored (as runc does)");
  });

  test("memory: checkBeforeUpdate refuses a limit below current usage", async () => {
    const mgr = fresh();
    // A shell that touches 8 MiB of tmpfs-free memory: a string doubled in awk-free sh.
    const child = t!.spawn("x=$(head -c 8388608 /dev/zero | tr '\\0' a); echo ready; sleep 30");
    const reader = child.stdout.getReader();
    await reader.read();
    mgr.apply({ memory: { limit: 64 * MiB } });
    let err: unknown;
    try {
      mgr.apply({ memory: { limit: 4096 * 16, checkBeforeUpdate: true } }, { update: true });
    } catch (e) {
      err = e;
    }
    expect(String(err)).toContain("linux.resources.memory.limit: checkBeforeUpdate: current usage");
    // The limit was left as it was.
    expect(read(mgr, "memory", version === 1 ? "memory.limit_in_bytes" : "memory.max")).toBe(String(64 * MiB));
  });

  test("cpu: shares, quota, period, burst", () => {
    const mgr = fresh();
    mgr.apply({ cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000 } });
    if (version === 1) {
      expect(read(mgr, "cpu", "cpu.shares")).toBe("512");
      expect(read(mgr, "cpu", "cpu.cfs_quota_us")).toBe("50000");
      expect(read(mgr, "cpu", "cpu.cfs_period_us")).toBe("100000");
      expect(read(mgr, "cpu", "cpu.cfs_burst_us")).toBe("10000");
    } else {
      expect(read(mgr, "cpu", "cpu.weight")).toBe(String(sharesToWeight(512n)));
      expect(read(mgr, "cpu", "cpu.max")).toBe("50000 100000");
      expect(read(mgr, "cpu", "cpu.max.burst")).toBe("10000");
    }
  });

  test("cpu: updating only the period keeps the quota (and the reverse)", () => {
    const mgr = fresh();
    mgr.apply({ cpu: { quota: 20000, period: 100000 } });
    mgr.apply({ cpu: { period: 50000 } }, { update: true });
    mgr.apply({ cpu: { quota: 30000 } }, { update: true });
    if (version === 1) expect([read(mgr, "cpu", "cpu.cfs_quota_us"), read(mgr, "cpu", "cpu.cfs_period_us")]).toEqual(["30000", "50000"]);
    else expect(read(mgr, "cpu", "cpu.max")).toBe("30000 50000");
  });

  test("cpu: shares map to weight like runc (2->1, 1024->100, 262144->10000)", () => {
    expect([2n, 1024n, 262144n, 0n].map(sharesToWeight)).toEqual([1n, 100n, 10000n, 0n]);
  });

  test("cpu: realtime (v1) / named error (v2)", () => {
    const mgr = fresh();
    if (version === 1) {
      mgr.apply({ cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } });
      expect(read(mgr, "cpu", "cpu.rt_runtime_us")).toBe("10000");
      expect(read(mgr, "cpu", "cpu.rt_period_us")).toBe("1000000");
    } else fails(mgr, { cpu: { realtimeRuntime: 10000 } }, "linux.resources.cpu.realtimeRuntime");
  });

  test("cpu: idle", () => {
    const mgr = fresh();
    mgr.apply({ cpu: { idle: 1 } });
    expect(read(mgr, "cpu", "cpu.idle")).toBe("1");
  });

  test("cpuset: cpus and mems", () => {
    const mgr = fresh();
    mgr.apply({ cpu: { cpus: "0", mems: "0" } });
    expect(read(mgr, "cpuset", "cpuset.cpus")).toBe("0");
    expect(read(mgr, "cpuset", "cpuset.mems")).toBe("0");
  });

  test("pids: a limit, and a negative limit is max", () => {
    const mgr = fresh();
    mgr.apply({ pids: { limit: 10 } });
    expect(read(mgr, "pids", "pids.max")).toBe("10");
    mgr.apply({ pids: { limit: -1 } }, { update: true });
    expect(read(mgr, "pids", "pids.max")).toBe("max");
  });

  test("blockIO: weight (BFQ or the plain/iocost file), or a named error without one", () => {
    const mgr = fresh();
    const dir = version === 2 ? mgr.dir : mgr.paths.blkio!;
    const files = version === 1 ? ["blkio.weight", "blkio.bfq.weight"] : ["io.bfq.weight", "io.weight"];
    const file = files.find((f) => existsSync(join(dir, f)));
    if (!file) return fails(mgr, { blockIO: { weight: 500 } }, "linux.resources.blockIO.weight");
    mgr.apply({ blockIO: { weight: 500 } });
    const want = file === "io.weight" ? `default ${blkioToIoWeight(500n)}` : file === "io.bfq.weight" ? "default 500" : "500";
    expect(read(mgr, "blkio", file)).toBe(want);
  });

  test.skipIf(!BLOCK)(`blockIO: throttles on a real device${BLOCK ? "" : " [skipped: no block device]"}`, () => {
    const mgr = fresh();
    const [major, minor] = BLOCK!.split(":").map(Number) as [number, number];
    const dev = { major, minor };
    mgr.apply({ blockIO: { throttleReadBpsDevice: [{ ...dev, rate: MiB }], throttleWriteIOPSDevice: [{ ...dev, rate: 100 }] } });
    if (version === 1) {
      expect(read(mgr, "blkio", "blkio.throttle.read_bps_device")).toBe(`${BLOCK} ${MiB}`);
      expect(read(mgr, "blkio", "blkio.throttle.write_iops_device")).toBe(`${BLOCK} 100`);
    } else expect(read(mgr, "io", "io.max")).toBe(`${BLOCK} rbps=${MiB} wbps=max riops=max wiops=100`);
  });

  test("blockIO: leafWeight needs the CFQ-era file; v2 has none", () => {
    const mgr = fresh();
    if (version === 1 && existsSync(join(mgr.paths.blkio ?? "/nonexistent", "blkio.leaf_weight"))) {
      mgr.apply({ blockIO: { leafWeight: 300 } });
      expect(read(mgr, "blkio", "blkio.leaf_weight")).toBe("300");
    } else fails(mgr, { blockIO: { leafWeight: 300 } }, "linux.resources.blockIO.leafWeight");
  });

  test("hugepageLimits: written where hugetlb exists, else a named error", () => {
    const mgr = fresh();
    const r = { hugepageLimits: [{ pageSize: "2MB", limit: 4 * MiB }] };
    if (!offers(mgr, "hugetlb")) return fails(mgr, r, "linux.resources.hugepageLimits");
    mgr.apply(r);
    expect(read(mgr, "hugetlb", version === 1 ? "hugetlb.2MB.limit_in_bytes" : "hugetlb.2MB.max")).toBe(String(4 * MiB));
    fails(mgr, { hugepageLimits: [{ pageSize: "3MB", limit: 1 }] }, "linux.resources.hugepageLimits[0].pageSize");
  });

  test("network: classID and priorities (v1 net_cls/net_prio), else a named error", () => {
    const mgr = fresh();
    if (offers(mgr, "net_cls")) {
      mgr.apply({ network: { classID: 0x100001 } });
      expect(read(mgr, "net_cls", "net_cls.classid")).toBe(String(0x100001));
    } else fails(mgr, { network: { classID: 0x100001 } }, "linux.resources.network.classID");
    if (offers(mgr, "net_prio")) {
      mgr.apply({ network: { priorities: [{ name: "lo", priority: 5 }] } });
      expect(read(mgr, "net_prio", "net_prio.ifpriomap")).toContain("lo 5");
    } else fails(mgr, { network: { priorities: [{ name: "lo", priority: 5 }] } }, "linux.resources.network.priorities");
  });

  test("rdma: without RDMA hardware (or controller) the device's limit fails by name", () => {
    const mgr = fresh();
    fails(mgr, { rdma: { mlx5_0: { hcaHandles: 2, hcaObjects: 100 } } }, /^linux\.resources\.rdma/);
  });

  test("unified: raw v2 files (v2) / refused on v1", () => {
    const mgr = fresh();
    const r = { unified: { "memory.high": String(50 * MiB) } };
    if (version === 1) return fails(mgr, r, "linux.resources.unified");
    mgr.apply(r);
    expect(read(mgr, "memory", "memory.high")).toBe(String(50 * MiB));
    fails(mgr, { unified: { "../cgroup.procs": "1" } }, "linux.resources.unified.../cgroup.procs");
    fails(mgr, { unified: { "no.such.file": "1" } }, "linux.resources.unified.no.such.file");
  });

  test("devices: the reduced rules are in place (v1 devices.list / v2 one eBPF program, replaced on re-apply)", () => {
    const mgr = fresh();
    const r = { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c" as const, major: 1, minor: 3, access: "rw" }] };
    mgr.apply(r);
    if (version === 1) {
      const list = read(mgr, "devices", "devices.list").split("\n");
      expect(list).toContain("c 1:3 rwm"); // rw from the spec, m from runc's defaults
      expect(list).toContain("c 136:* rwm");
      expect(list).not.toContain("a *:* rwm");
    } else {
      expect(cgroupDevicesCount(mgr.dir)).toBe(1);
      mgr.apply(r);
      expect(cgroupDevicesCount(mgr.dir)).toBe(1);
    }
  });

  test("update leaves devices alone", () => {
    const mgr = fresh();
    mgr.apply({ devices: [{ allow: false, access: "rwm" }] });
    mgr.apply({ devices: [{ allow: true, access: "rwm" }] }, { update: true });
    if (version === 1) expect(read(mgr, "devices", "devices.list")).not.toContain("a *:* rwm");
    else expect(cgroupDevicesCount(mgr.dir)).toBe(1);
  });
});
