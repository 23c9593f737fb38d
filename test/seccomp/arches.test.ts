// Architectures: the arch check comes first, x86_64 and x32 share AUDIT_ARCH_X86_64 and differ
// by bit 30, an architecture outside the filter is killed (libseccomp's default bad-arch action).
import { describe, expect, test } from "bun:test";
import { AUDIT, errno, RET, runFilter, X32_BIT } from "./bpf.ts";
import { compile, NR, retOf, run } from "./helpers.ts";

const EPERM = 1;
const profile = (architectures: string[]) => ({
  defaultAction: "SCMP_ACT_ERRNO",
  architectures,
  syscalls: [
    { names: ["read", "write", "getpid", "execve", "clone3"], action: "SCMP_ACT_ALLOW" },
    { names: ["unshare"], action: "SCMP_ACT_ERRNO", errnoRet: 77 },
  ],
});

describe("architectures", () => {
  test("x86_64, x86 and x32 each use their own numbers", () => {
    const c = compile(profile(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]));
    for (const arch of ["x86_64", "x86", "x32"] as const) {
      expect(retOf(c, arch, "read")).toBe(RET.ALLOW);
      expect(retOf(c, arch, "write")).toBe(RET.ALLOW);
      expect(retOf(c, arch, "unshare")).toBe(errno(77));
    }
    // x86's read (3) is x86_64's close: not allowed there.
    expect(retOf(c, "x86_64", "close")).toBe(errno(EPERM));
    // x32 execve is 520|bit; x86_64's 59 with the bit set is not an x32 syscall.
    expect(retOf(c, "x32", "execve")).toBe(RET.ALLOW);
    expect(run(c, "x32", 59 | X32_BIT).ret).toBe(errno(EPERM));
  });

  test("the native architecture is always in the filter, even when not listed", () => {
    const c = compile(profile(["SCMP_ARCH_X86"]));
    expect(retOf(c, "x86_64", "read")).toBe(RET.ALLOW);
    expect(retOf(c, "x86", "read")).toBe(RET.ALLOW);
    const none = compile(profile([]));
    expect(retOf(none, "x86_64", "read")).toBe(RET.ALLOW);
    expect(retOf(none, "x86", "read")).toBe(RET.KILL_THREAD);
  });

  test("x32 syscalls are killed when only x86_64 is listed, and the reverse", () => {
    const only64 = compile(profile(["SCMP_ARCH_X86_64"]));
    expect(retOf(only64, "x32", "read")).toBe(RET.KILL_THREAD);
    expect(retOf(only64, "x86_64", "read")).toBe(RET.ALLOW);
    const c = compile(profile(["SCMP_ARCH_X32"]), "SCMP_ARCH_AARCH64");
    expect(retOf(c, "x32", "read")).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "read")).toBe(RET.KILL_THREAD);
  });

  test("an architecture outside the filter is killed before any syscall check", () => {
    const c = compile(profile(["SCMP_ARCH_X86_64"]));
    for (const arch of [AUDIT.I386, AUDIT.AARCH64, AUDIT.ARM, 0, 0xffffffff]) {
      const r = runFilter(c.program, { nr: 0, arch });
      expect(r.ret).toBe(RET.KILL_THREAD);
      expect(r.steps).toBeLessThanOrEqual(3);
    }
  });

  test("aarch64 and arm tables, with aarch64 native", () => {
    const c = compile(profile(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]), "SCMP_ARCH_AARCH64");
    for (const arch of ["aarch64", "arm"] as const) {
      expect(retOf(c, arch, "read")).toBe(RET.ALLOW);
      expect(retOf(c, arch, "unshare")).toBe(errno(77));
      expect(retOf(c, arch, "personality")).toBe(errno(EPERM));
    }
    expect(retOf(c, "x86_64", "read")).toBe(RET.KILL_THREAD);
    const names = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["fstat", "newfstatat", "set_tls"], action: "SCMP_ACT_ALLOW" }], architectures: ["SCMP_ARCH_ARM"] }, "SCMP_ARCH_AARCH64");
    expect(retOf(names, "aarch64", "fstat")).toBe(RET.ALLOW);
    expect(retOf(names, "aarch64", "newfstatat")).toBe(RET.ALLOW);
    expect(retOf(names, "arm", "set_tls")).toBe(RET.ALLOW);
  });

  test("architectures no x86_64 or aarch64 kernel reports are left out, not refused", () => {
    const c = compile(profile(["SCMP_ARCH_X86_64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390X", "SCMP_ARCH_RISCV64"]));
    expect(retOf(c, "x86_64", "read")).toBe(RET.ALLOW);
  });

  test("the native check comes first: load the arch, compare it with the native one", () => {
    const c = compile(profile(["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"]));
    const dv = new DataView(c.program.buffer, c.program.byteOffset);
    expect([dv.getUint16(0, true), dv.getUint32(4, true)]).toEqual([0x20, 4]); // ld [arch]
    expect([dv.getUint16(8, true), dv.getUint32(12, true)]).toEqual([0x15, AUDIT.X86_64]); // jeq native
    expect(run(c, "x86", NR.x86.read).ret).toBe(RET.ALLOW);
  });
});
