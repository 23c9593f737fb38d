// Builds test/seccomp/sysprobe.zig (static, no libc) once per test process and puts it into a
// bundle's rootfs as /sysprobe.
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let built: { dir: string; path: string } | undefined;

export function sysprobe(): string {
  if (built) return built.path;
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-sysprobe-"));
  const path = join(dir, "sysprobe");
  const zig = Bun.spawnSync(["bash", "scripts/zig.sh", "build-exe", "test/seccomp/sysprobe.zig", "-O", "ReleaseSmall", "-fstrip", `-femit-bin=${path}`], { cwd: join(import.meta.dir, "../.."), stderr: "pipe" });
  if (zig.exitCode !== 0) throw new Error(`building sysprobe: ${zig.stderr.toString()}`);
  built = { dir, path };
  return path;
}

export function installSysprobe(rootfs: string): void {
  copyFileSync(sysprobe(), join(rootfs, "sysprobe"));
  chmodSync(join(rootfs, "sysprobe"), 0o755);
}

export function removeSysprobe(): void {
  if (built) rmSync(built.dir, { recursive: true, force: true });
  built = undefined;
}
