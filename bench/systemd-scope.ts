// What the systemd cgroup driver adds to `create`, measured in one process (no Bun start in the
// numbers): for each of N rounds, a `sleep` gets (a) a cgroupfs cgroup made and joined the way
// the cgroupfs driver does it (mkdir, cgroup.procs, memory.max, pids.max, rmdir), (b) a transient
// scope through src/cgroups/systemd (connect, StartTransientUnit with the same limits as unit
// properties, wait for the job; the cgroupfs writes inside it), then stopped, and (c) the same
// scope through `systemd-run --scope` (systemd's own C client; its process start included), for
// scale. Needs root on a systemd host with cgroup v2 (the systemd VM tier):
//   scripts/vm/run.sh --systemd --share $PWD -- "cd $PWD && node_modules/.bin/bun bench/systemd-scope.ts"
import { mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { resourceProperties, scopeProperties } from "../src/cgroups/systemd/properties.ts";
import { startScope, stopScope } from "../src/cgroups/systemd/scope.ts";

const ROUNDS = Number(process.argv[2] ?? 20);
const MiB = 1024 * 1024;
const resources = { memory: { limit: 64 * MiB }, pids: { limit: 77 } };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cgroupfs: number[] = [];
const scope: number[] = [];
const firstScope: number[] = [];
const systemdRun: number[] = [];

for (let i = 0; i < ROUNDS; i++) {
  const sleeper = Bun.spawn(["sleep", "1000"]);
  const dir = `/sys/fs/cgroup/bench-cgroupfs-${process.pid}-${i}`;
  let t = performance.now();
  mkdirSync(dir);
  writeFileSync(`${dir}/cgroup.procs`, String(sleeper.pid));
  writeFileSync(`${dir}/memory.max`, String(64 * MiB));
  writeFileSync(`${dir}/pids.max`, "77");
  cgroupfs.push(performance.now() - t);
  writeFileSync("/sys/fs/cgroup/cgroup.procs", String(sleeper.pid));
  rmdirSync(dir);

  const unit = `bench-scope-${process.pid}-${i}.scope`;
  t = performance.now();
  startScope(unit, [...scopeProperties(2, { slice: "system.slice", pid: sleeper.pid, description: "bench" }), ...resourceProperties(2, resources, { devices: true })], () => {});
  writeFileSync(`/sys/fs/cgroup/system.slice/${unit}/memory.max`, String(64 * MiB));
  writeFileSync(`/sys/fs/cgroup/system.slice/${unit}/pids.max`, "77");
  (i === 0 ? firstScope : scope).push(performance.now() - t);
  sleeper.kill(9);
  await sleeper.exited;
  stopScope(unit);

  t = performance.now();
  Bun.spawnSync(["systemd-run", "--quiet", "--scope", `--unit=bench-run-${process.pid}-${i}`, "-p", "MemoryMax=64M", "-p", "TasksMax=77", "true"]);
  systemdRun.push(performance.now() - t);
}

console.log(`${ROUNDS} rounds, medians:`);
console.log(`  cgroupfs cgroup (mkdir + join + 2 limits):           ${median(cgroupfs).toFixed(2)} ms`);
console.log(`  systemd scope via sd-bus (first, with dlopen):        ${firstScope[0]!.toFixed(2)} ms`);
console.log(`  systemd scope via sd-bus (connect, start, job, 2 writes): ${median(scope).toFixed(2)} ms`);
console.log(`  systemd-run --scope true (process start included):    ${median(systemdRun).toFixed(2)} ms`);
console.log(`  added to create by the driver: ${(median(scope) - median(cgroupfs)).toFixed(2)} ms`);
