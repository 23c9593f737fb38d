// Who runs bunrunc, by runc's rules: whether the state root follows $XDG_RUNTIME_DIR and whether
// cgroups are handled rootless (permission errors tolerated where runc tolerates them). Read by
// the state store (the default --root) and the lifecycle (create's cgroups); nothing here acts.
import { readFileSync } from "node:fs";

/** The initial user namespace's identity map: anything else means we run inside a user namespace. */
const INITIAL_UID_MAP = /^\s*0\s+0\s+4294967295\s*$/;

let inUserNs: boolean | undefined;

export function runningInUserNs(): boolean {
  if (inUserNs === undefined) {
    try {
      inUserNs = !INITIAL_UID_MAP.test(readFileSync("/proc/self/uid_map", "utf8"));
    } catch {
      inUserNs = false;
    }
  }
  return inUserNs;
}

/**
 * runc's rule for the default root: $XDG_RUNTIME_DIR when it is set and we are not root, or
 * root in a user namespace whose $USER is not "root"; real root keeps /run for compatibility.
 */
export function honorXdgRuntimeDir(env: Record<string, string | undefined> = process.env): boolean {
  if (!env.XDG_RUNTIME_DIR) return false;
  if (process.geteuid!() !== 0) return true;
  if (!runningInUserNs()) return false;
  return env.USER === undefined || env.USER !== "root";
}

/**
 * `--rootless` (true, false, auto): auto is rootless for any non-root euid, and for root inside
 * a user namespace (it may not own the cgroups it sees; runc's cgroupfs rule).
 */
export function rootlessCgroups(flag: "true" | "false" | "auto" = "auto"): boolean {
  if (flag !== "auto") return flag === "true";
  if (process.geteuid!() !== 0) return true;
  return runningInUserNs();
}

/** Not root: the caller has no privilege outside the user namespaces it makes. */
export function unprivileged(): boolean {
  return process.geteuid!() !== 0;
}
