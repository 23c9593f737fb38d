// The engines' real profiles: podman 4.3's config.json and Docker's default profile (converted
// to spec form here), compiled and run in the interpreter against the JSON's own meaning.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { errno, RET } from "./bpf.ts";
import { compile, NR, retOf, run, type TestArch } from "./helpers.ts";
import { DOCKER_DEFAULT_CAPS, mobyToSpec } from "./moby.ts";
import { expectedRet } from "./oracle.ts";

// Copies kept in the repo: test/fixtures/README.md and spec-fixtures/README.md say where each came from.
const readJson = (path: string) => JSON.parse(readFileSync(join(import.meta.dir, "../..", path), "utf8"));
const podman = () => readJson("spec-fixtures/valid/podman-4.3.json").linux.seccomp;
const moby = (caps = DOCKER_DEFAULT_CAPS) => mobyToSpec(readJson("test/fixtures/moby-default-seccomp.json"), { goarch: "amd64", scmpArch: "SCMP_ARCH_X86_64", caps, kernel: [6, 1] });

const ARG_PROBES = [[], [0n], [8n], [0x20000n], [0x20008n], [0xffff_ffffn], [1n], [0x1_0000_0000n], [0x1_0000_0008n], [10n], [38n], [39n], [40n], [41n], [0x7e02_0000n], [0x1_0000_0000n | 17n]];

function checkAgainstJson(profile: Record<string, unknown>, label: string): void {
  const c = compile(profile);
  let checked = 0;
  for (const arch of ["x86_64", "x86", "x32"] as TestArch[]) {
    for (const name of Object.keys(NR[arch])) {
      for (const args of ARG_PROBES) {
        const want = expectedRet(profile, name, args, arch === "x86_64" ? 64 : 32);
        const got = retOf(c, arch, name, args);
        if (got !== want) throw new Error(`${label} ${arch} ${name}(${args.join(",")}): 0x${got.toString(16)}, the profile says 0x${want.toString(16)}`);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(400);
}

describe("podman 4.3", () => {
  test("every tested syscall, on x86_64, x86 and x32, does what the JSON says", () => checkAgainstJson(podman(), "podman"));

  test("blocked, allowed and argument-conditioned calls", () => {
    const c = compile(podman());
    expect(retOf(c, "x86_64", "bpf")).toBe(errno(1));
    expect(retOf(c, "x86_64", "read")).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "personality", [8])).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "personality", [9])).toBe(errno(38));
    expect(retOf(c, "x86_64", "personality", [0x1_0000_0008n])).toBe(errno(38));
    expect(retOf(c, "x86", "personality", [0x1_0000_0008n])).toBe(RET.ALLOW); // 32-bit ABI: low half only
    expect(run(c, "x86_64", 5000).ret).toBe(errno(38));
  });
});

describe("Docker's default profile", () => {
  test("with Docker's default capabilities, does what the JSON says", () => checkAgainstJson(moby(), "moby"));
  test("with CAP_SYS_ADMIN, does what the JSON says", () => checkAgainstJson(moby([...DOCKER_DEFAULT_CAPS, "CAP_SYS_ADMIN"]), "moby+SYS_ADMIN"));

  test("unshare, mount, keyctl blocked; clone only without namespace flags; clone3 gets ENOSYS", () => {
    const c = compile(moby());
    for (const n of ["unshare", "mount", "keyctl", "setns", "bpf"]) expect(retOf(c, "x86_64", n)).toBe(errno(1));
    expect(retOf(c, "x86_64", "getpid")).toBe(RET.ALLOW);
    expect(retOf(c, "x86_64", "clone", [0x11n])).toBe(RET.ALLOW); // SIGCHLD | CLONE_VM-less fork
    expect(retOf(c, "x86_64", "clone", [0x2000_0000n])).toBe(errno(1)); // CLONE_NEWUTS
    expect(retOf(c, "x86_64", "clone", [0x1_0000_0011n])).toBe(RET.ALLOW); // high half is not a flag
    expect(retOf(c, "x86_64", "clone3")).toBe(errno(38));
    expect(retOf(c, "x86_64", "socket", [40])).toBe(errno(1)); // AF_VSOCK
    expect(retOf(c, "x86_64", "socket", [2])).toBe(RET.ALLOW);
    // Newer than anything the profile names: runc's stub says ENOSYS, not EPERM.
    expect(run(c, "x86_64", 1000).ret).toBe(errno(38));
  });
});

describe("efficiency", () => {
  test("worst-case instructions per syscall (reported)", () => {
    for (const [label, profile] of [["podman 4.3", podman()], ["docker default", moby()]] as const) {
      const c = compile(profile);
      let max = 0;
      let sum = 0;
      for (let nr = 0; nr < 470; nr++) {
        const steps = run(c, "x86_64", nr).steps;
        max = Math.max(max, steps);
        sum += steps;
      }
      console.log(`seccomp ${label}: ${c.instructions} instructions; x86_64 syscall 0-469 run ${max} at most (mean ${(sum / 470).toFixed(1)}); compiler's bound without argument checks ${c.plainLongestPath}, with ${c.longestPath}`);
      // A binary search, not a scan over hundreds of syscalls.
      expect(c.plainLongestPath).toBeLessThanOrEqual(16);
      expect(max).toBeLessThanOrEqual(c.longestPath);
    }
  });
});
