// SECCOMP_FILTER_FLAG_* handed to seccomp(2), from linux.seccomp.flags and the kernel's support.
import { describe, expect, test } from "bun:test";
import { flagSupported, actionAvailable } from "../../src/seccomp/kernel.ts";
import { compile } from "./helpers.ts";

const F = { TSYNC: 1, LOG: 2, SPEC_ALLOW: 4, NEW_LISTENER: 8, WAIT_KILLABLE_RECV: 32 };
const base = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mount"], action: "SCMP_ACT_ERRNO" }] };
const notify = { defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/run/agent.sock", syscalls: [{ names: ["mount"], action: "SCMP_ACT_NOTIFY" }] };

describe("filter flags", () => {
  test("the kernel running the tests has seccomp with ALLOW and ERRNO", () => {
    expect(actionAvailable(0x7fff_0000)).toBe(true);
    expect(actionAvailable(0x0005_0001)).toBe(true);
  });

  test("no flags key: SPEC_ALLOW when the kernel has it (runc's default); an empty list: none", () => {
    expect(compile(base).flags).toBe(flagSupported(F.SPEC_ALLOW) ? F.SPEC_ALLOW : 0);
    expect(compile({ ...base, flags: [] }).flags).toBe(0);
  });

  test.skipIf(!flagSupported(F.LOG | F.TSYNC))("LOG and TSYNC pass through [skipped when the kernel lacks them]", () => {
    expect(compile({ ...base, flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"] }).flags).toBe(F.LOG | F.TSYNC);
  });

  test.skipIf(!flagSupported(F.WAIT_KILLABLE_RECV))("WAIT_KILLABLE_RECV only with a listener; a listener drops TSYNC [skipped before Linux 5.19]", () => {
    expect(compile({ ...base, flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] }).flags).toBe(0);
    const c = compile({ ...notify, flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"] });
    expect(c.flags).toBe(F.NEW_LISTENER | F.WAIT_KILLABLE_RECV);
    expect(c.listener).toBe(true);
  });
});
