// After the whole suite: no new host mounts, no leftover cgroup dirs, container processes or
// test temp dirs. `snapshot FILE` before the tests, `check FILE REPORT` after; the check is one
// JUnit test case in REPORT, so CI counts it like any other test.
import { existsSync, readdirSync, readlinkSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Snapshot {
  mounts: string[];
  cgroups: string[];
  processes: string[];
  temps: string[];
}

const CGROUP_ROOT = "/sys/fs/cgroup";
const TEMP_PREFIXES = ["bunrunc-"];

function mounts(): string[] {
  // Mount point and source; mount ids change with every remount and say nothing about leaks.
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const f = line.split(" ");
      const sep = f.indexOf("-");
      return `${f[4]} ${f[sep + 1]} ${f[sep + 2]}`;
    });
}

function cgroupDirs(dir: string, depth: number, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const path = join(dir, e.name);
    out.push(path);
    if (depth < 6) cgroupDirs(path, depth + 1, out);
  }
}

/** Processes that can only be ours: a bunrunc init, or anything running from a test temp dir. */
function containerProcesses(): string[] {
  const out: string[] = [];
  const temp = tmpdir();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue;
    }
    if (exe.includes("bunrunc-init") || TEMP_PREFIXES.some((p) => exe.startsWith(join(temp, p)))) out.push(`${pid} ${exe}`);
  }
  return out;
}

function temps(): string[] {
  const temp = tmpdir();
  return readdirSync(temp)
    .filter((n) => TEMP_PREFIXES.some((p) => n.startsWith(p)))
    .map((n) => join(temp, n))
    .filter((p) => statSync(p, { throwIfNoEntry: false })?.isDirectory());
}

/**
 * A cgroup that still holds processes belongs to whoever runs them (the machine's own tooling
 * makes cgroups while the suite runs); a leaked container's processes are caught by the process
 * check. What a test forgot is an empty directory.
 */
function isEmptyCgroup(dir: string): boolean {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8").trim() === "";
  } catch {
    return false; // gone meanwhile
  }
}

function snapshot(): Snapshot {
  const cgroups: string[] = [];
  cgroupDirs(CGROUP_ROOT, 0, cgroups);
  return { mounts: mounts(), cgroups, processes: containerProcesses(), temps: temps() };
}

function added(before: string[], after: string[]): string[] {
  const seen = new Map<string, number>();
  for (const b of before) seen.set(b, (seen.get(b) ?? 0) + 1);
  const out: string[] = [];
  for (const a of after) {
    const n = seen.get(a) ?? 0;
    if (n > 0) seen.set(a, n - 1);
    else out.push(a);
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * The resident servers this checkout's dist/bunrunc started during the suite (src/server): ended
 * by pid before the check, as the suite's own processes. Matched by executable and argv, never
 * by name alone.
 */
function stopServers(core: string): void {
  const ended: number[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
      if (exe !== core || readFileSync(`/proc/${pid}/cmdline`, "latin1") !== "bunrunc-core\0") continue;
      process.kill(Number(pid), "SIGTERM");
      ended.push(Number(pid));
    } catch {}
  }
  const deadline = Date.now() + 5_000;
  while (ended.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) Bun.sleepSync(20);
  // Their own cgroups (src/server/own-cgroup.ts) go once no server is left in them.
  for (const hierarchy of readdirSync(CGROUP_ROOT)) {
    for (const dir of [join(CGROUP_ROOT, hierarchy, "bunrunc-core"), join(CGROUP_ROOT, "bunrunc-core")]) {
      try {
        rmdirSync(dir);
      } catch {}
    }
  }
}

const [mode, file, report] = process.argv.slice(2);
if (mode === "stop-servers") {
  stopServers(file!);
  process.exit(0);
}
if (mode === "snapshot" && file) {
  writeFileSync(file, JSON.stringify(snapshot()));
} else if (mode === "check" && file && report) {
  const before: Snapshot = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { mounts: [], cgroups: [], processes: [], temps: [] };
  const now = snapshot();
  const leaks = [
    ...added(before.mounts, now.mounts).map((m) => `mount: ${m}`),
    ...added(before.cgroups, now.cgroups)
      .filter(isEmptyCgroup)
      .map((c) => `cgroup: ${c}`),
    ...added(before.processes, now.processes).map((p) => `process: ${p}`),
    ...added(before.temps, now.temps).map((t) => `temp dir: ${t}`),
  ];
  const name = "after the whole suite: no new host mounts, cgroup dirs, container processes or temp dirs";
  const body = leaks.length ? `<failure message="${esc(`${leaks.length} left behind`)}">${esc(leaks.join("\n"))}</failure>` : "";
  writeFileSync(report, `<?xml version="1.0"?>\n<testsuites><testsuite name="leak-check" tests="1"><testcase name="${esc(name)}" classname="leak-check">${body}</testcase></testsuite></testsuites>\n`);
  for (const l of leaks) console.error(`leak-check: ${l}`);
  console.log(leaks.length ? `leak-check: ${leaks.length} things left behind` : "leak-check: nothing left behind");
} else {
  console.error("usage: leak-check.ts snapshot FILE | check FILE REPORT");
  process.exit(2);
}
