// Bad profiles: one line naming the JSON path, nothing compiled. Unknown syscall names are not
// errors (runc skips them).
import { describe, expect, test } from "bun:test";
import { compileSeccomp } from "../../src/seccomp/compile.ts";
import { BunruncError } from "../../src/base/errors.ts";

function refusal(profile: Record<string, unknown>): string {
  try {
    compileSeccomp(profile, "linux.seccomp", { native: "SCMP_ARCH_X86_64" });
  } catch (e) {
    expect(e).toBeInstanceOf(BunruncError);
    expect((e as BunruncError).code).toBe("invalid-config");
    return (e as Error).message;
  }
  throw new Error("compiled a bad profile");
}

const rule = (r: Record<string, unknown>) => ({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }, r] });

describe("bad profiles name their JSON path", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["unknown action", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [...Array(3).fill({ names: ["read"], action: "SCMP_ACT_ALLOW" }), { names: ["read"], action: "SCMP_ACT_FOO" }] }, 'linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"'],
    ["unknown default action", { defaultAction: "SCMP_ACT_NOPE" }, 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"'],
    ["unknown operator", rule({ names: ["read"], action: "SCMP_ACT_LOG", args: [{ index: 0, value: 1, op: "SCMP_CMP_XX" }] }), 'linux.seccomp.syscalls[1].args[0].op: unknown operator "SCMP_CMP_XX"'],
    ["unknown architecture", { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"] }, 'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"'],
    ["unknown flag", { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_NOPE"] }, 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NOPE"'],
    ["argument index 6", rule({ names: ["read"], action: "SCMP_ACT_LOG", args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }] }), "linux.seccomp.syscalls[1].args[0].index: must be 0 to 5 (a syscall has six arguments), got 6"],
    ["negative value", rule({ names: ["read"], action: "SCMP_ACT_LOG", args: [{ index: 0, value: -1, op: "SCMP_CMP_EQ" }] }), "linux.seccomp.syscalls[1].args[0].value: must be an integer from 0 to 18446744073709551615"],
    ["value over 2^64-1", rule({ names: ["read"], action: "SCMP_ACT_LOG", args: [{ index: 0, value: 1n << 64n, op: "SCMP_CMP_EQ" }] }), "linux.seccomp.syscalls[1].args[0].value: must be an integer from 0 to 18446744073709551615"],
    ["errnoRet over 16 bits", rule({ names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet: 70000 }), "linux.seccomp.syscalls[1].errnoRet: must be at most 65535 (seccomp returns a 16-bit errno), got 70000"],
    ["empty syscall name", rule({ names: ["read", ""], action: "SCMP_ACT_LOG" }), "linux.seccomp.syscalls[1].names[1]: must be a non-empty syscall name"],
    ["NOTIFY as default", { defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/x" }, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"],
    ["NOTIFY on write", { defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/x", syscalls: [{ names: ["write"], action: "SCMP_ACT_NOTIFY" }] }, "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY cannot apply to write (the init needs it to hand the listener over)"],
    ["NOTIFY without a listener", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mount"], action: "SCMP_ACT_NOTIFY" }] }, "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"],
    ["syscalls not an array", { defaultAction: "SCMP_ACT_ALLOW", syscalls: { names: ["read"] } }, "linux.seccomp.syscalls: must be an array"],
    ["rules but no default", { syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }] }, "linux.seccomp.defaultAction: must be a string"],
  ];
  for (const [what, profile, message] of cases) test(what, () => expect(refusal(profile)).toBe(message));

  test("a filter longer than BPF_MAXINSNS is refused, not cut", () => {
    const syscalls = Array.from({ length: 800 }, (_, i) => ({ names: ["ioctl"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: 0x5400 + i, op: "SCMP_CMP_EQ" }, { index: 2, value: 1n << 40n, op: "SCMP_CMP_LT" }] }));
    expect(refusal({ defaultAction: "SCMP_ACT_ERRNO", syscalls })).toBe("linux.seccomp: the filter needs more than 4096 BPF instructions (the kernel's BPF_MAXINSNS)");
  });
});

describe("not errors", () => {
  test("unknown syscall names are skipped and reported", () => {
    const c = compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read", "no_such_call", "x".repeat(100)], action: "SCMP_ACT_ALLOW" }] }, "linux.seccomp", { native: "SCMP_ARCH_X86_64" });
    expect(c!.unknownSyscalls.sort()).toEqual(["no_such_call", "x".repeat(100)]);
  });

  test("no defaultAction and no syscalls means no filter (runc)", () => {
    expect(compileSeccomp({}, "linux.seccomp")).toBeUndefined();
    expect(compileSeccomp({ syscalls: [] }, "linux.seccomp")).toBeUndefined();
    expect(compileSeccomp(undefined, "linux.seccomp")).toBeUndefined();
  });
});
