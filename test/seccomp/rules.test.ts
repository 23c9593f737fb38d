// Every rule shape, operator and action, run through the test's own BPF interpreter.
import { describe, expect, test } from "bun:test";
import { errno, RET, X32_BIT } from "./bpf.ts";
import { compile, NR, retOf, run } from "./helpers.ts";
import { holds } from "./oracle.ts";

const EPERM = 1;
const ENOSYS = 38;
const ALL_X86 = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];

describe("actions", () => {
  const cases: [string, number | undefined, number][] = [
    ["SCMP_ACT_ALLOW", undefined, RET.ALLOW],
    ["SCMP_ACT_LOG", undefined, RET.LOG],
    ["SCMP_ACT_KILL", undefined, RET.KILL_THREAD],
    ["SCMP_ACT_KILL_THREAD", undefined, RET.KILL_THREAD],
    ["SCMP_ACT_KILL_PROCESS", undefined, RET.KILL_PROCESS],
    ["SCMP_ACT_TRAP", undefined, RET.TRAP],
    ["SCMP_ACT_ERRNO", undefined, errno(EPERM)],
    ["SCMP_ACT_ERRNO", 22, errno(22)],
    ["SCMP_ACT_TRACE", undefined, (RET.TRACE | EPERM) >>> 0],
    ["SCMP_ACT_TRACE", 7, (RET.TRACE | 7) >>> 0],
  ];
  for (const [action, errnoRet, want] of cases) {
    test(`${action}${errnoRet === undefined ? "" : ` errnoRet ${errnoRet}`} as a rule and as the default`, () => {
      const asRule = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["unshare"], action, errnoRet }] });
      expect(retOf(asRule, "x86_64", "unshare")).toBe(want);
      expect(retOf(asRule, "x86_64", "read")).toBe(RET.ALLOW);
      const asDefault = compile({ defaultAction: action, defaultErrnoRet: errnoRet, syscalls: [{ names: ["read", "clone3"], action: action === "SCMP_ACT_ALLOW" ? "SCMP_ACT_LOG" : "SCMP_ACT_ALLOW" }] });
      expect(retOf(asDefault, "x86_64", "unshare")).toBe(want);
    });
  }

  test("SCMP_ACT_NOTIFY asks for a listener", () => {
    const c = compile({ defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/run/agent.sock", syscalls: [{ names: ["mount"], action: "SCMP_ACT_NOTIFY" }] });
    expect(retOf(c, "x86_64", "mount")).toBe(RET.USER_NOTIF);
    expect(c.listener).toBe(true);
    expect(c.flags & 8).toBe(8); // SECCOMP_FILTER_FLAG_NEW_LISTENER
  });
});

describe("the default action and runc's -ENOSYS stub", () => {
  test("unnamed syscalls get the default; numbers above the profile's highest get ENOSYS", () => {
    const c = compile({ defaultAction: "SCMP_ACT_ERRNO", architectures: ALL_X86, syscalls: [{ names: ["read", "mount"], action: "SCMP_ACT_ALLOW" }] });
    expect(retOf(c, "x86_64", "read")).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "write")).toBe(errno(EPERM));
    expect(run(c, "x86_64", NR.x86_64.mount + 1).ret).toBe(errno(ENOSYS));
    expect(run(c, "x86_64", 100_000).ret).toBe(errno(ENOSYS));
    // Each ABI has its own highest number: mount is 21 on x86, 165|x32 on x32.
    expect(run(c, "x86", 22).ret).toBe(errno(ENOSYS));
    expect(run(c, "x86", 20).ret).toBe(errno(EPERM));
    expect(run(c, "x32", (165 | X32_BIT) + 1).ret).toBe(errno(ENOSYS));
    expect(run(c, "x32", 164 | X32_BIT).ret).toBe(errno(EPERM));
  });

  test("no stub when the default lets syscalls through or already says ENOSYS", () => {
    for (const def of [{ defaultAction: "SCMP_ACT_ALLOW" }, { defaultAction: "SCMP_ACT_LOG" }, { defaultAction: "SCMP_ACT_TRACE" }, { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: ENOSYS }]) {
      const c = compile({ ...def, syscalls: [{ names: ["read"], action: "SCMP_ACT_KILL_PROCESS" }] });
      const d = compile({ ...def, syscalls: [] });
      expect(run(c, "x86_64", 5000).ret).toBe(run(d, "x86_64", 3).ret);
    }
  });
});

const U32 = 0xffff_ffffn;
const U64 = (1n << 64n) - 1n;
const VALUES = [0n, 1n, 5n, U32 - 1n, U32, U32 + 1n, 0x1_0000_0005n, 0x7_0000_0000n, 0x7_ffff_ffffn, 1n << 63n, U64 - 1n, U64];
const probes = (v: bigint) => [...new Set([0n, 1n, 4n, 5n, 6n, U32, U32 + 1n, 0x1_0000_0004n, 0x1_0000_0005n, 0x1_0000_0006n, 0x6_ffff_ffffn, 0x7_0000_0000n, 0x8_0000_0000n, v - 1n, v, v + 1n, v ^ (1n << 32n), v | 0xffn, U64].filter((x) => x >= 0n && x <= U64))];
const OPS = ["SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE"];

describe("argument operators on 64-bit values in two halves", () => {
  for (const [arch, width] of [["x86_64", 64], ["x86", 32], ["x32", 32], ["aarch64", 64], ["arm", 32]] as const) {
    test(`every operator, every boundary, ${arch} (compares ${width} bits)`, () => {
      const native = arch === "aarch64" || arch === "arm" ? "SCMP_ARCH_AARCH64" : "SCMP_ARCH_X86_64";
      const archs = native === "SCMP_ARCH_AARCH64" ? ["SCMP_ARCH_ARM"] : ["SCMP_ARCH_X86", "SCMP_ARCH_X32"];
      let checked = 0;
      for (const op of OPS) {
        for (const value of VALUES) {
          const c = compile({ defaultAction: "SCMP_ACT_ALLOW", architectures: archs, syscalls: [{ names: ["personality"], action: "SCMP_ACT_ERRNO", errnoRet: 99, args: [{ index: 2, value, op }] }] }, native);
          for (const arg of probes(value)) {
            const want = holds(op, arg, value, 0n, width) ? errno(99) : RET.ALLOW;
            const got = retOf(c, arch, "personality", [0, 0, arg]);
            if (got !== want) throw new Error(`${arch} ${op} ${value}: arg ${arg} gave 0x${got.toString(16)}, want 0x${want.toString(16)}`);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(1000);
    });

    test(`SCMP_CMP_MASKED_EQ on both halves, ${arch}`, () => {
      const native = arch === "aarch64" || arch === "arm" ? "SCMP_ARCH_AARCH64" : "SCMP_ARCH_X86_64";
      const archs = native === "SCMP_ARCH_AARCH64" ? ["SCMP_ARCH_ARM"] : ["SCMP_ARCH_X86", "SCMP_ARCH_X32"];
      const masks = [0n, 0xffn, 0x7e02_0000n, 0xff_0000_0000n, 0xf0_0000_00f0n, U64];
      const datums = [0n, 0x10n, 0x10_0000_0010n, 0xffff_ffff_ffffn];
      for (const mask of masks) {
        for (const datum of datums) {
          const c = compile({ defaultAction: "SCMP_ACT_ALLOW", architectures: archs, syscalls: [{ names: ["personality"], action: "SCMP_ACT_KILL_PROCESS", args: [{ index: 5, value: mask, valueTwo: datum, op: "SCMP_CMP_MASKED_EQ" }] }] }, native);
          for (const arg of [0n, datum, datum | 0x100n, datum ^ 0x10n, datum ^ (0x10n << 32n), mask, U64, 0x7e02_0000n, 0x10_0000_0000n]) {
            const want = holds("SCMP_CMP_MASKED_EQ", arg, mask, datum, width) ? RET.KILL_PROCESS : RET.ALLOW;
            expect([mask, datum, arg, retOf(c, arch, "personality", [0, 0, 0, 0, 0, arg])]).toEqual([mask, datum, arg, want]);
          }
        }
      }
    });
  }
});

describe("rule shapes", () => {
  test("several conditions in one rule are AND'ed", () => {
    const c = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["ioctl"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 3, op: "SCMP_CMP_EQ" }, { index: 1, value: 0x5401, op: "SCMP_CMP_EQ" }, { index: 2, value: 1n << 40n, op: "SCMP_CMP_GE" }] }] });
    expect(retOf(c, "x86_64", "ioctl", [3, 0x5401, 1n << 40n])).toBe(errno(EPERM));
    expect(retOf(c, "x86_64", "ioctl", [3, 0x5401, (1n << 40n) - 1n])).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "ioctl", [4, 0x5401, 1n << 40n])).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "ioctl", [3, 0x5402, 1n << 40n])).toBe(RET.ALLOW);
  });

  test("several rules for one syscall are OR'ed; the first that matches decides", () => {
    const c = compile({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0, op: "SCMP_CMP_EQ" }] },
        { names: ["personality"], action: "SCMP_ACT_LOG", args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }] },
        { names: ["personality"], action: "SCMP_ACT_TRAP", args: [{ index: 0, value: 4, op: "SCMP_CMP_GE" }] },
      ],
    });
    expect(retOf(c, "x86_64", "personality", [0])).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "personality", [8])).toBe(RET.LOG);
    expect(retOf(c, "x86_64", "personality", [9])).toBe(RET.TRAP);
    expect(retOf(c, "x86_64", "personality", [1])).toBe(errno(EPERM));
  });

  test("a rule without conditions matches always and wins over conditional ones (libseccomp)", () => {
    for (const order of [0, 1]) {
      const rules = [{ names: ["socket"], action: "SCMP_ACT_ALLOW" }, { names: ["socket"], action: "SCMP_ACT_KILL_PROCESS", args: [{ index: 0, value: 40, op: "SCMP_CMP_EQ" }] }];
      const c = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: order ? rules.reverse() : rules });
      expect(retOf(c, "x86_64", "socket", [40])).toBe(RET.ALLOW);
      expect(retOf(c, "x86_64", "socket", [2])).toBe(RET.ALLOW);
    }
  });

  test("a condition repeating an argument splits the rule into alternatives (runc)", () => {
    const c = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["socket"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 10, op: "SCMP_CMP_EQ" }, { index: 0, value: 40, op: "SCMP_CMP_EQ" }] }] });
    expect(retOf(c, "x86_64", "socket", [10])).toBe(errno(EPERM));
    expect(retOf(c, "x86_64", "socket", [40])).toBe(errno(EPERM));
    expect(retOf(c, "x86_64", "socket", [2])).toBe(RET.ALLOW);
  });

  test("a rule whose action is the default is dropped (runc), so later rules still apply", () => {
    const c = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["socket"], action: "SCMP_ACT_ERRNO" }, { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }] }] });
    expect(retOf(c, "x86_64", "socket", [1])).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "socket", [2])).toBe(errno(EPERM));
  });

  test("one rule with many names covers each of them", () => {
    const c = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["unshare", "mount", "keyctl", "setns"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }] });
    for (const n of ["unshare", "mount", "keyctl", "setns"]) expect(retOf(c, "x86_64", n)).toBe(errno(13));
    expect(retOf(c, "x86_64", "getpid")).toBe(RET.ALLOW);
  });
});
