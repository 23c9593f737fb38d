// A container's linux.seccomp for create and exec: compiled here, in the parent, and cached by
// the profile's hash under the state root (cache.ts); the init only loads the program.
import { join } from "node:path";
import type { Spec } from "../config/types.ts";

/** "@" cannot start a container id, so the cache never collides with a container's state dir. */
const SECCOMP_CACHE_DIR = "@seccomp-cache";

/** linux.seccomp compiled (from the cache under `root` when it holds it); undefined without a profile. */
export function compileSeccompIfAny(spec: Spec, root?: string, opts: { debug?: (m: string) => void } = {}): { flags: number; program: Uint8Array; listener: boolean } | undefined {
  // Most configs without a profile never load the seccomp modules (~0.4 ms of every create).
  if (spec.linux?.seccomp === undefined || spec.linux.seccomp === null) return undefined;
  const { compileSeccomp } = require("./compile.ts") as typeof import("./compile.ts");
  const compiled = compileSeccomp(spec.linux?.seccomp, "linux.seccomp", { cacheDir: root ? join(root, SECCOMP_CACHE_DIR) : undefined, debug: opts.debug });
  return compiled;
}

