// What every example needs: a state root and busybox bundles, made under one temp dir that
// `done()` removes. Not an example itself: the others import it.
//
// The rootfs is the host's static busybox (Debian: `apt-get install busybox-static`) and its
// applets; config.json is `bunrunc spec`'s (runc's), without a terminal.
//
//   --root DIR     the state root (default: <the temp dir>/root). bunrunc's own default is
//                  /run/bunrunc; examples never touch it unless told to.
//   BUSYBOX=PATH   a static busybox other than /bin/busybox
//   BUNRUNC=PATH   the bunrunc command the shell examples run (default: `bunrunc` on PATH)
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultSpec } from "bunrunc";

export const BUSYBOX = process.env.BUSYBOX ?? "/bin/busybox";
export const BUNRUNC = process.env.BUNRUNC ?? "bunrunc";
const APPLETS = ["sh", "cat", "echo", "hostname", "id", "ls", "sleep", "test", "[", "true", "seq", "md5sum", "head"];

export interface Workspace {
  /** The state root: the CLI's --root, every library call's `root`. */
  root: string;
  /** A bundle whose container runs `args`, named `name` (a directory under the workspace). */
  bundle(name: string, args: string[]): string;
  /** Removes the workspace (the examples delete their containers first). */
  done(): void;
}

export function workspace(argv = process.argv.slice(2)): Workspace {
  if (process.getuid?.() !== 0) throw new Error("the examples run containers: run them as root");
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-example-"));
  const at = argv.indexOf("--root");
  const root = at >= 0 && argv[at + 1] ? argv[at + 1]! : join(dir, "root");
  return {
    root,
    bundle(name, args) {
      const bundle = join(dir, name);
      const rootfs = join(bundle, "rootfs");
      for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc"]) mkdirSync(join(rootfs, d), { recursive: true });
      copyFileSync(BUSYBOX, join(rootfs, "bin/busybox"));
      chmodSync(join(rootfs, "bin/busybox"), 0o755);
      for (const applet of APPLETS) symlinkSync("busybox", join(rootfs, "bin", applet));
      writeFileSync(join(rootfs, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
      const spec = defaultSpec() as { process: { terminal: boolean; args: string[] } };
      spec.process.terminal = false;
      spec.process.args = args;
      writeFileSync(join(bundle, "config.json"), JSON.stringify(spec, null, 2));
      return bundle;
    },
    done() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
