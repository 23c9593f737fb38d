// Runs a shell command in a real container through the library API and returns what it printed.
// The command's output goes to /out (a bind mount of a host temp dir), so the test process's
// own stdio stays out of it.
import { afterEach } from "bun:test";
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ffiModule from "../../src/ffi.ts";
import * as bunrunc from "../../src/lib/index.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";

/** Containers need root and the Zig spawn (src/ffi.ts `spawn`). */
export const canRunContainers = process.getuid?.() === 0 && typeof (ffiModule as Record<string, unknown>).spawn === "function";
export const SKIP_REASON = canRunContainers ? "" : " [skipped: needs root and src/ffi.ts spawn]";

export function withOut(spec: Spec, b: TestBundle): string {
  const out = join(b.dir, "out");
  mkdirSync(out, { recursive: true });
  // Container users other than root write here too.
  chmodSync(out, 0o777);
  spec.mounts = [...(spec.mounts ?? []), { destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] }];
  return out;
}

export interface Ran {
  code: number;
  out: string;
  b: TestBundle;
}

export interface RunInOptions {
  rootfsOutside?: boolean;
  /** Extra options for the library's run() (noPivot, noNewKeyring, id...). */
  run?: Partial<bunrunc.RunOptions>;
  /** Takes ownership of the bundle (cleanup included) even when run() throws. */
  track?: (b: TestBundle) => void;
}

/** `edit` may change the spec; the command runs as `sh -c "<cmd>" > /out/stdout 2>&1`. */
export async function runIn(cmd: string, edit: (spec: Spec, b: TestBundle) => void = () => {}, opts: RunInOptions = {}): Promise<Ran> {
  const spec = defaultSpec();
  const b = makeBundle(spec, opts);
  opts.track?.(b);
  try {
    const out = withOut(spec, b);
    spec.process!.args = ["sh", "-c", `(${cmd}) > /out/stdout 2>&1`];
    edit(spec, b);
    b.writeSpec(spec);
    const code = await bunrunc.run({ root: b.root, id: uniqueId("run"), bundle: b.bundle, ...opts.run });
    const file = join(out, "stdout");
    return { code, out: existsSync(file) ? readFileSync(file, "utf8") : "", b };
  } catch (e) {
    if (!opts.track) b.cleanup();
    throw e;
  }
}

/** runIn for one test file: every bundle it made is removed after each test. */
export function cleanRuns(): typeof runIn {
  const made: TestBundle[] = [];
  afterEach(() => {
    for (const b of made.splice(0)) b.cleanup();
  });
  return (cmd, edit, opts = {}) => runIn(cmd, edit, { ...opts, track: (b) => made.push(b) });
}

/** The value of `Key:` in a /proc/PID/status text. */
export const statusField = (out: string, key: string) => new RegExp(`^${key}:\\s*(.*)$`, "m").exec(out)?.[1];

/** chown -R without following symlinks. */
function chownTree(path: string, id: number): void {
  lchownSync(path, id, id);
  if (!lstatSync(path).isDirectory()) return;
  for (const e of readdirSync(path)) chownTree(join(path, e), id);
}

/**
 * A user namespace mapping container 0.. to host `hostId`.. (65536 ids), the rootfs owned by the
 * mapped root; the mapped root has no rights on the host, so the bundle is opened up for it to reach.
 */
export function inUserNs(s: Spec, b: { dir: string; bundle: string; rootfs: string }, hostId: number): void {
  s.linux!.namespaces!.push({ type: "user" });
  s.linux!.uidMappings = [{ containerID: 0, hostID: hostId, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: hostId, size: 65536 }];
  chownTree(b.rootfs, hostId);
  chmodSync(b.dir, 0o755);
  chmodSync(b.bundle, 0o755);
}
