// A container's processes: its cgroup's, or, for a container made rootless without a delegated
// cgroup (it has none), the processes of its own pid namespace, else its init and the init's
// descendants. runc fails `ps` and `kill --all` there; a user still needs them.
import { readdirSync, readlinkSync } from "node:fs";
import { loadCgroup } from "./container-cgroup.ts";
import type { ContainerState } from "./container.ts";
import { isAlive, procStat } from "./init-process.ts";

export function containerPids(saved: ContainerState): number[] {
  const cg = loadCgroup(saved.bunrunc.cgroupVersion, saved.bunrunc.cgroupPaths);
  if (!cg.none()) return cg.pids();
  const init = saved.pid;
  const alive = () => Boolean(init) && isAlive(init, saved.bunrunc.initStartTime);
  if (!alive()) return [];
  const pids = saved.bunrunc.ownPidNs ? inPidNsOf(init) : withDescendants(init);
  // The init still the one recorded after the walk: had its pid been reused meanwhile, the
  // namespace or the tree read would be another process's (the caller's own, at worst).
  return alive() ? pids : [];
}

/** Live processes (a zombie has left its cgroup too, so a cgroup's list never has one). */
function allPids(): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => {
      const st = procStat(p);
      return st !== null && st.state !== "Z";
    });
}

/** Every process whose pid namespace is the init's (exec'd ones included: they are not its children). */
function inPidNsOf(init: number): number[] {
  const ns = pidNs(init);
  // A container with a pid namespace of its own never shares ours: if it reads as ours, the pid
  // is no longer its init's.
  if (!ns || ns === pidNs(process.pid)) return [];
  return allPids().filter((p) => pidNs(p) === ns).sort((a, b) => a - b);
}

function pidNs(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null; // gone, or not ours to inspect
  }
}

function withDescendants(init: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const ppid = procStat(p)?.ppid; // read twice; a process gone meanwhile drops out
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), p]);
  }
  const out: number[] = [];
  const todo = [init];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out.sort((a, b) => a - b);
}
