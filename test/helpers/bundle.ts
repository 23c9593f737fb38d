// Test bundles: a default config like `runc spec` (non-terminal), a busybox rootfs, a temp dir
// per bundle, and a state root per test. Everything lives under one mkdtemp dir; `cleanup()`
// removes it.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec as specDocument } from "../../src/lib/spec.ts";

const REPO = resolve(import.meta.dir, "../..");
export const BUSYBOX = "/bin/busybox";
export const PROBE = join(REPO, "zig-out/bin/bunrunc-probe");
const APPLETS = ["sh", "cat", "ls", "id", "sleep", "echo", "true", "false", "grep", "stat", "touch", "hostname", "umask", "mount", "env", "readlink", "wc", "head", "kill", "ps"];

/** The config `bunrunc spec` writes (runc's), with terminal off (tests have no tty). */
export function defaultSpec(args: string[] = ["sh"]): Spec {
  // A deep copy: tests edit what they get, and the generator shares its arrays between sets.
  const spec = structuredClone(specDocument()) as unknown as Spec;
  spec.process!.terminal = false;
  spec.process!.args = args;
  return spec;
}

/** A busybox rootfs (+ the probe when built) at `dir`. */
export function busyboxRootfs(dir: string): string {
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc", "root"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, "bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  for (const a of APPLETS) symlinkSync("busybox", join(dir, "bin", a));
  if (existsSync(PROBE)) {
    copyFileSync(PROBE, join(dir, "probe"));
    chmodSync(join(dir, "probe"), 0o755);
  }
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
  writeFileSync(join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  return dir;
}

export interface TestBundle {
  dir: string;
  /** A fresh --root for this test's containers. */
  root: string;
  bundle: string;
  rootfs: string;
  writeSpec(spec: Spec): void;
  cleanup(): void;
}

/** Temp dirs made by this process: leak checks look only at processes that use them. */
const madeDirs = new Set<string>();

/** A temp dir with `bundle/` (config.json + rootfs/) and `root/` (state). */
export function makeBundle(spec: Spec = defaultSpec(), opts: { rootfsOutside?: boolean } = {}): TestBundle {
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-test-"));
  madeDirs.add(dir);
  const bundle = join(dir, "bundle");
  const root = join(dir, "root");
  mkdirSync(bundle);
  mkdirSync(root);
  const rootfs = opts.rootfsOutside ? join(dir, "elsewhere-rootfs") : join(bundle, "rootfs");
  busyboxRootfs(rootfs);
  const writeSpec = (s: Spec) => {
    const withRoot = { ...s, root: { ...(s.root ?? { path: "rootfs" }), path: opts.rootfsOutside ? rootfs : "rootfs" } };
    writeFileSync(join(bundle, "config.json"), JSON.stringify(withRoot, null, 2));
  };
  writeSpec(spec);
  return { dir, root, bundle, rootfs, writeSpec, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;
/** A container id unique to this process and test. */
export function uniqueId(prefix = "t"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** What a test run may leave behind on the host: mounts, cgroup dirs, processes under a dir. */
export interface HostSnapshot {
  mounts: Set<string>;
  cgroups: Set<string>;
}

function mountPoints(): Set<string> {
  return new Set(readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter(Boolean));
}

function cgroupDirs(): Set<string> {
  const out = new Set<string>();
  for (const ctrl of safeReaddir("/sys/fs/cgroup")) for (const d of safeReaddir(join("/sys/fs/cgroup", ctrl))) out.add(`${ctrl}/${d}`);
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

export function hostSnapshot(): HostSnapshot {
  return { mounts: mountPoints(), cgroups: cgroupDirs() };
}

/** New mounts and cgroup dirs since `before` whose path names this test process's containers. */
export function leaksSince(before: HostSnapshot): { mounts: string[]; cgroups: string[]; processes: string[] } {
  const mine = (p: string) => p.includes(`-${process.pid}-`) || [...madeDirs].some((d) => p.startsWith(d));
  const processes: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      // Only ours: other test processes on the machine use bunrunc-test- dirs too.
      if ([...madeDirs].some((d) => cmd.includes(d))) processes.push(`${pid}: ${cmd.replaceAll("\0", " ")}`);
    } catch {}
  }
  return {
    mounts: [...mountPoints()].filter((m) => !before.mounts.has(m) && mine(m)),
    cgroups: [...cgroupDirs()].filter((c) => !before.cgroups.has(c) && mine(c)),
    processes,
  };
}
