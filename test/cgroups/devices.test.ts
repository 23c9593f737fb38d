// Device rules: the reduction to one default + exceptions (pure), and the Zig-built eBPF filter
// enforcing it on a real cgroup2 directory — the hybrid host's empty /sys/fs/cgroup/unified
// mount works for this too, so the v2 filter is exercised on v1 hosts as well.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmdirSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { bpfRules, containerDevices, reduceRules, v1String } from "../../src/cgroups/devices.ts";
import { CgroupError } from "../../src/cgroups/types.ts";
import { devices as devicesV2 } from "../../src/cgroups/v2/devices.ts";
import { cgroupDevicesCount } from "../../src/ffi-devices.ts";
import { uniqueId } from "../helpers/bundle.ts";
import { isRoot, version } from "./helpers.ts";

describe("rule reduction (v1 kernel semantics)", () => {
  test("deny all, then allows: a deny default with allow exceptions", () => {
    const set = reduceRules([{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rw" }, { allow: true, type: "b", major: 8, access: "r" }]);
    expect(set.defaultAllow).toBe(false);
    expect(set.exceptions.map(v1String)).toEqual(["c 1:3 rw", "b 8:* r"]);
  });
  test("allow all, then denies: an allow default with deny exceptions", () => {
    const set = reduceRules([{ allow: true, access: "rwm" }, { allow: false, type: "c", major: 10, minor: 229, access: "rwm" }]);
    expect(set).toEqual({ defaultAllow: true, exceptions: [{ type: "c", major: 10, minor: 229, access: "rwm" }] });
  });
  test("a later rule with the default's verdict takes access away; a later 'a' resets everything", () => {
    expect(reduceRules([{ allow: true, type: "c", major: 1, minor: 3, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 3, access: "w" }]).exceptions).toEqual([{ type: "c", major: 1, minor: 3, access: "rm" }]);
    expect(reduceRules([{ allow: true, type: "c", major: 1, minor: 3 }, { allow: true, access: "rwm" }])).toEqual({ defaultAllow: true, exceptions: [] });
  });
  test("runc's always-allowed devices follow the spec's rules", () => {
    const set = containerDevices([{ allow: false, access: "rwm" }]);
    const rules = set.exceptions.map(v1String);
    expect(rules).toContain("c *:* m");
    expect(rules).toContain("c 136:* rwm");
    expect(rules).toContain("c 10:200 rwm");
    expect(rules).toHaveLength(11);
    expect(bpfRules(set)).toHaveLength(11 * 12);
  });
  test("bad rules fail naming the rule", () => {
    expect(() => reduceRules([{ allow: true, type: "x" as never }])).toThrow(CgroupError);
    expect(() => reduceRules([{ allow: true, type: "c", access: "rwx" }])).toThrow("linux.resources.devices[0].access");
  });
});

const UNIFIED = version === 2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
const hasCgroup2 = isRoot && existsSync(UNIFIED) && statfsSync(UNIFIED).type === 0x63677270;

describe.skipIf(!hasCgroup2)(`eBPF device filter on cgroup2 (${UNIFIED})${hasCgroup2 ? "" : " [skipped: needs root and a cgroup2 mount]"}`, () => {
  let dir = "";
  afterEach(async () => {
    for (let i = 0; i < 100 && existsSync(dir); i++) {
      try {
        rmdirSync(dir);
      } catch {
        await Bun.sleep(10);
      }
    }
  });

  async function sh(script: string) {
    const p = Bun.spawn(["sh", "-c", `echo $$ > ${dir}/cgroup.procs || exit 99\n${script}`], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err };
  }

  test("deny by default, allow-list exceptions, and the program is replaced (not stacked) on re-apply", async () => {
    dir = join(UNIFIED, `bunrunc-test-${uniqueId("bpf")}`);
    mkdirSync(dir);
    devicesV2.apply(dir, { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 11, access: "r" }] }, { update: false });
    expect(cgroupDevicesCount(dir)).toBe(1);
    let r = await sh("head -c 0 < /dev/kmsg && echo read-ok; echo x > /dev/kmsg || echo write-denied; head -c 1 /dev/zero | wc -c");
    expect(r.out.split("\n").filter(Boolean)).toEqual(["read-ok", "write-denied", "1"]);
    expect(r.err).toContain("Operation not permitted");
    // An allow-by-default set with one deny exception replaces the first program.
    devicesV2.apply(dir, { devices: [{ allow: true, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 11, access: "r" }] }, { update: false });
    expect(cgroupDevicesCount(dir)).toBe(1);
    r = await sh("head -c 1 /dev/zero | wc -c; head -c 0 < /dev/kmsg && echo read-ok; true > /dev/kmsg && echo write-ok");
    expect(r.err).toContain("Operation not permitted");
    expect(r.out.split("\n").filter(Boolean)).toEqual(["1", "write-ok"]);
  });

  test("update leaves the filter alone", () => {
    dir = join(UNIFIED, `bunrunc-test-${uniqueId("bpf")}`);
    mkdirSync(dir);
    devicesV2.apply(dir, { devices: [{ allow: false, access: "rwm" }] }, { update: true });
    expect(cgroupDevicesCount(dir)).toBe(0);
  });
});
