// Where the container's cgroup goes: absolute, relative to our own cgroup, the default, and the
// systemd "slice:prefix:name" form (pure: the host's view is passed in).
import { describe, expect, test } from "bun:test";
import { expandSlice, ownCgroups, resolvePaths, systemdRunning, v1Mounts } from "../../src/cgroups/paths.ts";
import { CgroupError } from "../../src/cgroups/types.ts";

const mounts = { memory: "/sys/fs/cgroup/memory", cpu: "/sys/fs/cgroup/cpu,cpuacct", cpuacct: "/sys/fs/cgroup/cpu,cpuacct" };
const own = { memory: "/user/me", cpu: "/", cpuacct: "/", "": "/user.slice/session-1.scope" };

describe("cgroupsPath", () => {
  test("absolute: under each hierarchy root", () => {
    const r = resolvePaths("c1", "/default/c1", { version: 1, mounts, own });
    expect(r.paths).toEqual({ memory: "/sys/fs/cgroup/memory/default/c1", cpu: "/sys/fs/cgroup/cpu,cpuacct/default/c1", cpuacct: "/sys/fs/cgroup/cpu,cpuacct/default/c1" });
  });
  test("relative: under our own cgroup (v1), next to it (v2)", () => {
    expect(resolvePaths("c1", "box/c1", { version: 1, mounts, own }).paths.memory).toBe("/sys/fs/cgroup/memory/user/me/box/c1");
    expect(resolvePaths("c1", "box/c1", { version: 2, own }).paths).toEqual({ "": "/sys/fs/cgroup/user.slice/box/c1" });
  });
  test("absent: the container id, relative", () => {
    expect(resolvePaths("c9", undefined, { version: 2, own }).paths[""]).toBe("/sys/fs/cgroup/user.slice/c9");
    expect(resolvePaths("c9", "", { version: 1, mounts, own }).paths.cpu).toBe("/sys/fs/cgroup/cpu,cpuacct/c9");
  });
  test("dot-dot cannot climb out of the hierarchy", () => {
    expect(resolvePaths("c1", "/../../etc", { version: 2, own }).paths[""]).toBe("/sys/fs/cgroup/etc");
  });
  test("the root itself is refused", () => {
    expect(() => resolvePaths("c1", "/", { version: 2, own })).toThrow("linux.cgroupsPath");
  });
  test("a systemd path without --systemd-cgroup is refused by name", () => {
    expect(() => resolvePaths("c1", "system.slice:docker:c1", { version: 2, own })).toThrow(/linux.cgroupsPath: .*--systemd-cgroup/);
  });
});

describe("systemd driver", () => {
  test("slices nest by dash", () => {
    expect(expandSlice("system.slice")).toBe("/system.slice");
    expect(expandSlice("a-b-c.slice")).toBe("/a.slice/a-b.slice/a-b-c.slice");
    expect(() => expandSlice("nope")).toThrow(CgroupError);
  });
  test.skipIf(systemdRunning())("without systemd running: one clear error naming --systemd-cgroup [skipped where systemd runs]", () => {
    expect(() => resolvePaths("c1", "system.slice:docker:c1", { version: 2, own, systemd: true })).toThrow(/^--systemd-cgroup: systemd is not running/);
  });
  test.skipIf(!systemdRunning())("with systemd: slice:prefix:name -> slice/prefix-name.scope [skipped: no systemd here]", () => {
    expect(resolvePaths("c1", "machine.slice:libpod:c1", { version: 2, own, systemd: true }).paths[""]).toBe("/sys/fs/cgroup/machine.slice/libpod-c1.scope");
    expect(() => resolvePaths("c1", "a:b", { version: 2, own, systemd: true })).toThrow(/slice:prefix:name/);
  });
});

describe("host parsing", () => {
  test("mountinfo: controllers and named hierarchies, cgroup2 ignored", () => {
    const mi = [
      "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct",
      "31 25 0:27 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd",
      "32 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate",
    ].join("\n");
    expect(v1Mounts(mi)).toEqual({ cpu: "/sys/fs/cgroup/cpu,cpuacct", cpuacct: "/sys/fs/cgroup/cpu,cpuacct", systemd: "/sys/fs/cgroup/systemd" });
  });
  test("/proc/self/cgroup", () => {
    expect(ownCgroups("4:memory:/a/b\n1:name=systemd:/s\n0::/u\n")).toEqual({ memory: "/a/b", systemd: "/s", "": "/u" });
  });
});
