// CVE-2019-5736-style attacks on the runtime binary from inside a container whose rootfs holds the
// host's glibc (so the host binary could run there if it were ever exec'd): the host bunrunc/Bun
// must never be what /proc/self/exe or the init's /proc/PID/exe names, and must stay unchanged.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { canRunContainers, runIn, SKIP_REASON, type Ran } from "./container-helper.ts";

const REPO = resolve(import.meta.dir, "../..");
const hostBinaries = [process.execPath, join(REPO, "zig-out/lib/libbunrunc.so"), join(REPO, "dist/bunrunc")];
const sha = (p: string) => {
  try {
    return createHash("sha256").update(readFileSync(p)).digest("hex");
  } catch {
    return "absent";
  }
};

/** Copies the shared libraries `binary` needs (ldd) into rootfs at the same paths. */
function copyLibs(binary: string, rootfs: string): void {
  const out = Bun.spawnSync(["ldd", binary]).stdout.toString();
  for (const m of out.matchAll(/(\/\S+\.so[.\d]*)/g)) {
    const lib = m[1]!;
    mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(rootfs, lib));
  }
}

const ran: Ran[] = [];
afterEach(() => {
  for (const r of ran.splice(0)) r.b.cleanup();
});

describe.skipIf(!canRunContainers)(`/proc/self/exe attacks${SKIP_REASON}`, () => {
  test("an entrypoint '#!/proc/self/exe' does not run the host binary; host binaries unchanged", async () => {
    const before = hostBinaries.map(sha);
    const r = await runIn("/entry; echo rc=$?", (s, b) => {
      copyLibs(process.execPath, b.rootfs);
      writeFileSync(join(b.rootfs, "entry"), "#!/proc/self/exe\nconsole.log('HOST-BINARY-RAN'); require('fs').writeFileSync('/proc/self/exe', 'x');\n");
      chmodSync(join(b.rootfs, "entry"), 0o755);
      s.root!.readonly = false;
    });
    ran.push(r);
    expect(r.out).not.toContain("HOST-BINARY-RAN");
    expect(r.out).toMatch(/rc=[1-9]/);
    expect(hostBinaries.map(sha)).toEqual(before);
  });

  test("opening the runtime stage's /proc/1/exe for writing fails", async () => {
    const before = hostBinaries.map(sha);
    const r = await runIn("cat /out/exe-open", (s) => {
      s.hooks = { startContainer: [{ path: "/bin/sh", args: ["sh", "-c", "if (exec 3<>/proc/1/exe) 2>/dev/null; then echo OPENED; else echo REFUSED; fi > /out/exe-open"] }] };
    });
    ran.push(r);
    expect(r.out).toBe("REFUSED\n");
    expect(hostBinaries.map(sha)).toEqual(before);
  });
});
