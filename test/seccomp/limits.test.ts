// Big filters: jumps longer than a conditional jump's 8-bit offset must still land right, and
// the compiler's path-length report must match what a syscall really runs through.
import { describe, expect, test } from "bun:test";
import { errno, RET } from "./bpf.ts";
import { compile, NR, retOf, run } from "./helpers.ts";

describe("long programs", () => {
  test("a 3000+ instruction filter keeps every rule's meaning (long jumps via stand-ins)", () => {
    const n = 400;
    const ioctlRules = Array.from({ length: n }, (_, i) => ({ names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 1 + i, args: [{ index: 1, value: 0x5400 + i, op: "SCMP_CMP_EQ" }] }));
    const c = compile({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      architectures: ["SCMP_ARCH_X32"],
      syscalls: [
        { names: ["read", "write", "getpid", "personality", "clone3"], action: "SCMP_ACT_ALLOW" },
        ...ioctlRules,
        { names: ["unshare"], action: "SCMP_ACT_KILL_PROCESS" },
        { names: ["mount"], action: "SCMP_ACT_TRAP" },
      ],
    });
    expect(c.instructions).toBeGreaterThan(3000);
    expect(c.instructions).toBeLessThanOrEqual(4096);
    for (const i of [0, 1, 2, 100, 255, 256, 257, 300, n - 2, n - 1]) {
      expect(retOf(c, "x86_64", "ioctl", [3, 0x5400 + i])).toBe(errno(1 + i));
      expect(retOf(c, "x86_64", "ioctl", [3, 0x5400 + i + (1 << 20)])).toBe(errno(38));
      // 32-bit ABIs compare the low half only: the high half does not matter there.
      expect(retOf(c, "x32", "ioctl", [3, BigInt(0x5400 + i) | (1n << 40n)])).toBe(errno(1 + i));
    }
    expect(retOf(c, "x86_64", "read")).toBe(RET.ALLOW);
    expect(retOf(c, "x32", "read")).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "unshare")).toBe(RET.KILL_PROCESS);
    expect(retOf(c, "x32", "unshare")).toBe(RET.KILL_PROCESS);
    expect(retOf(c, "x86_64", "mount")).toBe(RET.TRAP);
    expect(retOf(c, "x86_64", "keyctl")).toBe(errno(38));
  });
});

describe("path lengths", () => {
  test("the reported worst cases bound what every syscall number really runs", () => {
    const c = compile({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [
        { names: ["read", "write", "close", "getpid", "mount", "chroot", "bpf", "clone3"], action: "SCMP_ACT_ALLOW" },
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }] },
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1n << 35n, op: "SCMP_CMP_GT" }] },
      ],
    });
    let plainMax = 0;
    for (let nr = 0; nr < 600; nr++) {
      if (nr === NR.x86_64.personality) continue;
      plainMax = Math.max(plainMax, run(c, "x86_64", nr).steps);
    }
    expect(plainMax).toBeLessThanOrEqual(c.plainLongestPath);
    const withArgs = Math.max(...[0, 8, 9, 1n << 36n].map((a) => run(c, "x86_64", NR.x86_64.personality, [a]).steps));
    expect(withArgs).toBeGreaterThan(plainMax);
    expect(withArgs).toBeLessThanOrEqual(c.longestPath);
  });
});
