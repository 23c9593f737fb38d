// The resident server's own cgroup: `bunrunc-core` under the root of every hierarchy, so an admin
// sees it (systemd-cgls, /proc/PID/cgroup) and its CPU and memory are accounted apart from the
// engine that happened to start it (conmon's, a shim's cgroup, which that engine removes later) and
// from the host's root cgroup. Where one cannot be made, the root of that hierarchy.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const OWN_CGROUP = "bunrunc-core";

/** The mount points of every cgroup hierarchy whose root is mounted (v1 controllers and v2). */
function hierarchyRoots(): string[] {
  const roots: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0 || (f[sep + 1] !== "cgroup" && f[sep + 1] !== "cgroup2") || f[3] !== "/") continue;
    roots.push(f[4]!);
  }
  return roots;
}

function join1(dir: string): boolean {
  try {
    writeFileSync(join(dir, "cgroup.procs"), String(process.pid));
    return true;
  } catch {
    return false;
  }
}

export function joinOwnCgroups(): void {
  for (const root of hierarchyRoots()) {
    const own = join(root, OWN_CGROUP);
    try {
      mkdirSync(own, { mode: 0o755 });
      // v1 cpuset: a new cgroup has no CPUs or memory nodes until given its parent's.
      for (const file of ["cpuset.cpus", "cpuset.mems"]) {
        try {
          writeFileSync(join(own, file), readFileSync(join(root, file), "utf8").trim());
        } catch {}
      }
    } catch {}
    if (!join1(own)) join1(root);
  }
}

/** Back to the roots, and the cgroups go unless another server still lives in them. */
export function leaveOwnCgroups(): void {
  for (const root of hierarchyRoots()) {
    join1(root);
    try {
      rmdirSync(join(root, OWN_CGROUP));
    } catch {}
  }
}
