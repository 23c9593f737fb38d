// Which cgroup directories an exec'd process joins: the container's own (from its saved state),
// or with --cgroup existing sub-cgroups of them: "path" for every controller, or
// "ctrl[,ctrl]:path" for some (cgroup v1; v2 has one hierarchy and takes no controller).
import { existsSync } from "node:fs";
import { join, normalize } from "node:path";
import type { Internal } from "./container.ts";
import { fail } from "./exec-overrides.ts";
import { clip, quote } from "../base/quote.ts";

export function execCgroupDirs(state: Pick<Internal, "cgroupPaths" | "cgroupVersion">, specs: readonly string[]): string[] {
  const paths = state.cgroupPaths;
  /** controller ("" = all) -> sub-path below the container's cgroup. */
  const sub = new Map<string, string>();
  for (const spec of specs) {
    const colon = spec.indexOf(":");
    const controllers = colon < 0 ? [""] : spec.slice(0, colon).split(",");
    const path = colon < 0 ? spec : spec.slice(colon + 1);
    const clean = normalize(path).replace(/^\/+|\/+$/g, "");
    if (!clean || clean === "." || clean.split("/").includes("..")) {
      throw fail(`--cgroup ${quote(spec)}: expected a path below the container's cgroup`);
    }
    for (const c of controllers) {
      if (c && state.cgroupVersion === 2) throw fail(`--cgroup ${quote(spec)}: cgroup v2 has no per-controller paths; give the path alone`);
      if (c && !(c in paths)) throw fail(`--cgroup ${quote(spec)}: the container has no ${quote(c)} cgroup`);
      sub.set(c, clean);
    }
  }
  // Co-mounted controllers (cpu,cpuacct) share a directory: one entry naming any of them wins.
  const byDir = new Map<string, string>();
  for (const [ctrl, dir] of Object.entries(paths)) {
    const explicit = sub.get(ctrl);
    if (explicit !== undefined) byDir.set(dir, explicit);
    else if (!byDir.has(dir)) byDir.set(dir, sub.get("") ?? "");
  }
  const dirs: string[] = [];
  for (const [dir, s] of byDir) {
    const target = s ? join(dir, s) : dir;
    if (s && !existsSync(join(target, "cgroup.procs"))) {
      throw fail(`--cgroup: ${clip(target)}: no such cgroup (sub-cgroups must exist before exec)`);
    }
    dirs.push(target);
  }
  return dirs;
}
