// Helpers for the files that run inside the systemd VM tier (test/vm-systemd/tier.test.ts boots
// it: systemd as PID 1, cgroup v2 only). Elsewhere every file here is skipped, saying why.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, run, type Runtime } from "../e2e/rig.ts";

const pid1 = (() => {
  try {
    return readFileSync("/proc/1/comm", "utf8").trim();
  } catch {
    return "";
  }
})();
const cgroup2Only = Bun.spawnSync(["stat", "-fc", "%T", "/sys/fs/cgroup"]).stdout.toString().trim() === "cgroup2fs";

/** "" on a systemd host with cgroup v2 only (the tier's VM), else why these files cannot run. */
export const SYSTEMD_SKIP =
  process.getuid?.() !== 0 ? "needs root"
  : pid1 !== "systemd" ? `PID 1 is ${pid1 || "unknown"}, not systemd (runs in the systemd VM tier: test/vm-systemd)`
  : !cgroup2Only ? "needs cgroup v2 only (runs in the systemd VM tier: test/vm-systemd)"
  : !existsSync(join(REPO, "dist/bunrunc")) ? "dist/bunrunc not built (scripts/build.sh)"
  : "";
export const skipTitle = (what: string) => `${what}${SYSTEMD_SKIP ? ` [skipped: ${SYSTEMD_SKIP}]` : ""}`;

/**
 * Whether the runtime drives systemd over D-Bus for `--systemd-cgroup` (a transient scope unit).
 * runc does; bunrunc does once `features` says so (issue 19's driver). Without it bunrunc gives the
 * container the cgroup path systemd would give the scope, as cgroupfs, and no unit exists: tests
 * of the unit itself are skipped for it, saying so.
 */
export function hasSystemdDriver(rt: Runtime): boolean {
  if (rt.name === "runc") return true;
  const r = run([rt.path, "features"]);
  try {
    return JSON.parse(r.stdout)?.linux?.cgroup?.systemd === true;
  } catch {
    return false;
  }
}
export const NEEDS_DRIVER = "[skipped for bunrunc: no systemd D-Bus driver yet (features: linux.cgroup.systemd false)]";

/** The cgroup v2 path of a process ("/system.slice/docker-ID.scope"), "" when it is gone. */
export function cgroupOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::"))?.slice(3) ?? "";
  } catch {
    return "";
  }
}

/** The scope's cgroup path for the systemd driver's "slice:prefix:name" (slices nest by dashes). */
export function scopePath(slice: string, prefix: string, name: string): string {
  const parts = slice.replace(/\.slice$/, "").split("-");
  const slices = parts.map((_, i) => `${parts.slice(0, i + 1).join("-")}.slice`);
  return `/${[...slices, `${prefix}-${name}.scope`].join("/")}`;
}

/** A file of a cgroup v2 directory (path as in /proc/PID/cgroup), trimmed; "" when absent. */
export function cgroupFile(path: string, file: string): string {
  try {
    return readFileSync(join("/sys/fs/cgroup", path, file), "utf8").trim();
  } catch {
    return "";
  }
}

/** `systemctl show UNIT -p ...` as a record (LoadState "not-found" once the unit is gone). */
export function unitProps(unit: string, props: string[]): Record<string, string> {
  const out = run(["systemctl", "show", unit, ...props.flatMap((p) => ["-p", p])]).stdout;
  const rec: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) rec[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return rec;
}

/** Whether the unit is loaded (a transient scope stays loaded only while it exists). */
export const unitLoaded = (unit: string) => unitProps(unit, ["LoadState"]).LoadState === "loaded";

/** Whether a process with this pid still exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** Whether the process has a handler for signal `sig` (its SigCgt mask). */
export function catches(pid: number, sig: number): boolean {
  try {
    const mask = /^SigCgt:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "0";
    return ((BigInt(`0x${mask}`) >> BigInt(sig - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}
