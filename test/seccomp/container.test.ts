// Real containers under the engines' profiles: blocked syscalls fail inside with the profile's
// errno, allowed ones work, argument-conditioned rules are honoured. Every call is also made in
// the same container without a filter (and with the capabilities to succeed), so a failure is
// the filter's doing, not a missing capability. test/seccomp/sysprobe.zig makes the raw calls.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "../../src/config/types.ts";
import { canRunContainers, runIn, SKIP_REASON } from "../lib/container-helper.ts";
import { execIn, startContainer } from "../lib/exec/helpers.ts";
import { DOCKER_DEFAULT_CAPS, mobyToSpec } from "./moby.ts";
import { installSysprobe, removeSysprobe, sysprobe } from "./sysprobe.ts";

// Copies kept in the repo: test/fixtures/README.md and spec-fixtures/README.md say where each came from.
const readJson = (path: string) => JSON.parse(readFileSync(join(import.meta.dir, "../..", path), "utf8"));
const podman = () => readJson("spec-fixtures/valid/podman-4.3.json").linux.seccomp;
const moby = () => mobyToSpec(readJson("test/fixtures/moby-default-seccomp.json"), { goarch: "amd64", scmpArch: "SCMP_ARCH_X86_64", caps: DOCKER_DEFAULT_CAPS, kernel: [6, 1] });
const isX86_64 = process.arch === "x64";
const SKIP = SKIP_REASON || (isX86_64 ? "" : " [skipped: the probe's syscall numbers are x86_64's]");

/** Enough capabilities that, without a filter, every probed call gets past the permission check. */
const CAPS = ["CAP_SYS_ADMIN", "CAP_BPF", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_NET_RAW"];

beforeAll(() => {
  if (!SKIP) sysprobe();
});
afterAll(removeSysprobe);

/** `calls`: sysprobe arguments ("label nr args -- label nr args ..."); returns label -> result. */
async function probeIn(seccomp: unknown, calls: string, edit: (spec: Spec) => void = () => {}): Promise<Record<string, number> & { exit?: number }> {
  const r = await runIn(`/sysprobe ${calls}; echo exit $?`, (spec, b) => {
    installSysprobe(b.rootfs);
    spec.process!.capabilities = { bounding: CAPS, effective: CAPS, permitted: CAPS };
    if (seccomp) spec.linux!.seccomp = seccomp as never;
    edit(spec);
  });
  r.b.cleanup();
  expect(r.code).toBe(0);
  const out: Record<string, number> = {};
  for (const line of r.out.trim().split("\n")) {
    const [label, value] = line.split(" ");
    out[label!] = Number(value);
  }
  return out;
}

// x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl).
const PODMAN_CALLS = [
  "getpid 39", // allowed
  "add_key 248 0 0 0 0 0", // not in the profile: defaultErrnoRet ENOSYS
  "bpf 321 0 0 0", // ERRNO 1
  "sethostname 170 0 0", // ERRNO 1
  "personality_9 135 9", // no rule matches the argument: default
  "personality_8 135 8", // an allowed argument
  "personality_0 135 0",
  "unshare 272 0x04000000", // podman allows unshare (capabilities decide)
  "above_all 1000", // newer than anything named
].join(" -- ");

const MOBY_CALLS = [
  "getpid 39",
  "unshare 272 0x04000000",
  "mount 165 0 0 0 0 0",
  "keyctl 250 0 0xfffffffd 0", // KEYCTL_GET_KEYRING_ID of the session keyring
  "clone_newuts fork:0x04000000", // clone(2) with flags | SIGCHLD
  "clone_plain fork:0",
  "clone3 435 0 0",
  "socket_vsock 41 40 1 0",
  "socket_inet 41 2 1 0",
  "personality_9 135 9",
  "personality_8 135 8",
  "personality_0 135 0",
  "above_all 1000",
].join(" -- ");

describe(`engines' profiles in real containers${SKIP}`, () => {
  test.skipIf(Boolean(SKIP))("podman 4.3: blocked calls get the profile's errno, allowed ones work", async () => {
    const free = await probeIn(undefined, PODMAN_CALLS);
    const got = await probeIn(podman(), PODMAN_CALLS);
    expect(got.getpid).toBeGreaterThan(0);
    expect({ ...got, getpid: 1 } as Record<string, number>).toEqual({ getpid: 1, add_key: -38, bpf: -1, sethostname: -1, personality_9: -38, personality_8: 0, personality_0: 8, unshare: 0, above_all: -38, exit: 0 });
    // Without the filter the blocked calls get past the filter's errno (so the filter made them fail).
    for (const k of ["add_key", "bpf", "sethostname", "personality_9"]) expect(free[k]).not.toBe(got[k]);
    expect(free.unshare).toBe(0);
  });

  test.skipIf(Boolean(SKIP))("Docker default: unshare, mount, keyctl, namespace clone, vsock blocked; plain clone allowed; clone3 ENOSYS", async () => {
    const free = await probeIn(undefined, MOBY_CALLS);
    const got = await probeIn(moby(), MOBY_CALLS);
    expect(got.getpid).toBeGreaterThan(0);
    for (const k of ["unshare", "mount", "keyctl", "clone_newuts", "socket_vsock", "personality_9"]) {
      expect([k, got[k]]).toEqual([k, -1]);
      expect([k, free[k]]).not.toEqual([k, -1]);
    }
    expect(got.clone3).toBe(-38);
    expect(free.clone3).not.toBe(-38);
    expect(got.clone_plain).toBeGreaterThan(0);
    expect(got.socket_inet).toBeGreaterThanOrEqual(0);
    expect([got.personality_8, got.personality_0]).toEqual([0, 8]);
    expect(got.above_all).toBe(-38);
    expect(free.unshare).toBe(0);
  });
});

describe(`actions and load order in real containers${SKIP}`, () => {
  const custom = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: ["getppid"], action: "SCMP_ACT_ERRNO", errnoRet: 123 },
      { names: ["sched_yield"], action: "SCMP_ACT_KILL_PROCESS" }, // one busybox sh never makes
      { names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 77, args: [{ index: 1, value: 0x1234_5678_9abc, op: "SCMP_CMP_EQ" }] },
    ],
  };

  test.skipIf(Boolean(SKIP))("errnoRet, a 64-bit argument, and KILL_PROCESS (SIGSYS)", async () => {
    const got = await probeIn(custom, "getppid 110 -- ioctl_match 16 0 0x123456789abc -- ioctl_low_half 16 0 0x56789abc -- sched_yield 24 -- after 39");
    expect(got.getppid).toBe(-123);
    expect(got.ioctl_match).toBe(-77);
    expect(got.ioctl_low_half).not.toBe(-77);
    expect(got.after).toBeUndefined(); // killed before it
    expect(got.exit).toBe(128 + 31); // SIGSYS
  });

  test.skipIf(Boolean(SKIP))("without noNewPrivileges the filter is loaded before the user switch, and the switch still works", async () => {
    const got = await probeIn(podman(), "getuid 102 -- bpf 321 0 0 0", (spec) => {
      spec.process!.noNewPrivileges = false;
      spec.process!.user = { uid: 65534, gid: 65534 };
    });
    expect(got).toEqual({ getuid: 65534, bpf: -1, exit: 0 });
  });

  test.skipIf(Boolean(SKIP))("a filter loaded early that refuses faccessat2 still lets the executable be found (mode-bit fallback)", async () => {
    // runtime-tools' default profile does this: without noNewPrivileges the filter is in place
    // when the init looks the executable up.
    const r = await runIn("echo found", (spec) => {
      spec.process!.noNewPrivileges = false;
      spec.process!.args = ["sh", "-c", "echo found > /out/stdout"];
      spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["faccessat2", "faccessat"], action: "SCMP_ACT_ERRNO" }] };
    });
    r.b.cleanup();
    expect(r.code).toBe(0);
    expect(r.out).toBe("found\n");
  });

  test.skipIf(Boolean(SKIP))("bunrunc exec'd processes get the container's filter too", async () => {
    const c = await startContainer((spec) => {
      spec.linux!.seccomp = custom as never;
    });
    try {
      installSysprobe(c.b.rootfs);
      const r = execIn(c, c.id, "/sysprobe", "getppid", "110", "--", "getpid", "39");
      expect(r.stdout).toMatch(/^getppid -123\ngetpid \d+\n$/);
    } finally {
      await c.remove();
    }
  });
});
