// Shared by the seccomp tests: compile a profile and run the result in the test's interpreter.
import { compileSeccomp, type CompiledSeccomp } from "../../src/seccomp/compile.ts";
import type { ArchName } from "../../src/seccomp/profile.ts";
import { AUDIT, runFilter, X32_BIT, type Outcome } from "./bpf.ts";

/**
 * Syscall numbers the tests use, copied from the kernel's tables (arch/x86/entry/syscalls/
 * syscall_64.tbl and syscall_32.tbl, include/uapi/asm-generic/unistd.h, arch/arm/tools/
 * syscall.tbl): an oracle independent of the compiler's own tables.
 */
export const NR = {
  x86_64: { read: 0, write: 1, close: 3, ioctl: 16, socket: 41, clone: 56, personality: 135, mount: 165, keyctl: 250, unshare: 272, setns: 308, clone3: 435, getpid: 39, chroot: 161, arch_prctl: 158, bpf: 321 },
  x86: { read: 3, write: 4, getpid: 20, mount: 21, clone: 120, personality: 136, keyctl: 288, unshare: 310, socket: 359, chroot: 61 },
  x32: { read: 0 | X32_BIT, write: 1 | X32_BIT, ioctl: 514 | X32_BIT, unshare: 272 | X32_BIT, personality: 135 | X32_BIT, execve: 520 | X32_BIT },
  aarch64: { read: 63, write: 64, getpid: 172, unshare: 97, mount: 40, personality: 92, clone: 220, keyctl: 219, socket: 198, fstat: 80, newfstatat: 79 },
  arm: { read: 3, write: 4, getpid: 20, personality: 136, unshare: 337, set_tls: 0x0f0005 },
} as const;

export const ARCH_OF = { x86_64: AUDIT.X86_64, x86: AUDIT.I386, x32: AUDIT.X86_64, aarch64: AUDIT.AARCH64, arm: AUDIT.ARM } as const;
export type TestArch = keyof typeof ARCH_OF;

let serial = 0;

/** Compiles without the memory cache (a unique key) so each test sees a fresh compile. */
export function compile(profile: Record<string, unknown>, native: ArchName = "SCMP_ARCH_X86_64"): CompiledSeccomp {
  const c = compileSeccomp({ ...profile, bunruncTestSerial: serial++ }, "linux.seccomp", { native });
  if (!c) throw new Error("no filter compiled");
  return c;
}

export function run(c: CompiledSeccomp, arch: TestArch, nr: number, args: (number | bigint)[] = []): Outcome {
  return runFilter(c.program, { nr, arch: ARCH_OF[arch], args });
}

/** The return value for `name` on `arch` with `args`. */
export function retOf(c: CompiledSeccomp, arch: TestArch, name: string, args: (number | bigint)[] = []): number {
  const nr = (NR[arch] as Record<string, number>)[name];
  if (nr === undefined) throw new Error(`test table has no ${name} for ${arch}`);
  return run(c, arch, nr, args).ret;
}
