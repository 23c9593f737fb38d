// The container's cgroup as the lifecycle needs it: create, add the init, freeze state, pids,
// kill everything, destroy.
// NOTE: minimal v1/v2 stand-in for src/cgroups/manager.ts (H5) until it lands: directories and
// cgroup.procs only, no resource limits.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface LifecycleCgroup {
  version: 1 | 2;
  paths: Record<string, string>;
  create(): void;
  addProcess(pid: number): void;
  pids(): number[];
  killAll(sig: number): void;
  destroy(): void;
}

const ROOT = "/sys/fs/cgroup";
const NOT_CONTROLLERS = new Set(["rw", "ro", "xattr", "clone_children", "noprefix", "cpuset_v2_mode"]);

function hierarchies(): { version: 1 | 2; dirs: Record<string, string> } {
  if (existsSync(join(ROOT, "cgroup.controllers"))) return { version: 2, dirs: { "": ROOT } };
  const dirs: Record<string, string> = {};
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0 || f[sep + 1] !== "cgroup") continue;
    const mountPoint = f[4]!;
    for (const opt of (f[sep + 3] ?? "").split(",")) {
      if (NOT_CONTROLLERS.has(opt) || (opt.includes("=") && !opt.startsWith("name="))) continue;
      dirs[opt.startsWith("name=") ? opt.slice(5) : opt] = mountPoint;
    }
  }
  return { version: 1, dirs };
}

/** cgroupsPath (absolute, or relative to the hierarchy root); default /<id>. */
export function cgroupFor(id: string, cgroupsPath: string | undefined): LifecycleCgroup {
  const { version, dirs } = hierarchies();
  const rel = cgroupsPath ? cgroupsPath.replace(/^\/+/, "") : id;
  if (rel.includes(":")) throw new Error(`linux.cgroupsPath: systemd cgroup paths are not supported here: ${cgroupsPath}`);
  const paths: Record<string, string> = {};
  for (const [ctrl, dir] of Object.entries(dirs)) paths[ctrl] = join(dir, rel);
  return loadCgroup(version, paths);
}

export function loadCgroup(version: 1 | 2, paths: Record<string, string>): LifecycleCgroup {
  const dirs = [...new Set(Object.values(paths))];
  const pids = () => {
    const out = new Set<number>();
    for (const d of dirs) {
      try {
        for (const l of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) if (l) out.add(Number(l));
      } catch {}
    }
    return [...out];
  };
  return {
    version,
    paths,
    create() {
      for (const d of dirs) {
        mkdirSync(d, { recursive: true });
        if (existsSync(join(d, "cpuset.cpus"))) inheritCpuset(d);
      }
    },
    addProcess: (pid) => dirs.forEach((d) => writeFileSync(join(d, "cgroup.procs"), String(pid))),
    pids,
    killAll(sig) {
      for (const pid of pids()) {
        try {
          process.kill(pid, sig);
        } catch {}
      }
    },
    destroy() {
      for (const d of dirs) removeTree(d);
    },
  };
}

/** A new v1 cpuset starts empty and refuses tasks (ENOSPC): copy cpus and mems from above. */
function inheritCpuset(dir: string): void {
  for (const file of ["cpuset.cpus", "cpuset.mems"]) {
    if (readFileSync(join(dir, file), "utf8").trim() !== "") continue;
    const parent = join(dir, "..");
    if (readFileSync(join(parent, file), "utf8").trim() === "") inheritCpuset(parent);
    writeFileSync(join(dir, file), readFileSync(join(parent, file), "utf8").trim());
  }
}

/** rmdir children first; a cgroup dir with live processes stays (EBUSY) and is retried by callers. */
function removeTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {}
}
