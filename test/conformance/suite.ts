// The OCI runtime-tools validation suite (built by scripts/conformance/build.sh) run against one
// runtime binary: every validation program once, in a private work dir (the suite reads
// runtimetest and its rootfs tarball from its cwd), a private TMPDIR (its bundles) and a private
// --root (through a wrapper script, as RUNTIME is a command without arguments). What a program
// printed becomes a list of failures, each one line, so a table can name them.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ProgramResult {
  program: string;
  ok: number;
  notOk: number;
  skipped: number;
  /** One line per failure: `not ok N - description`, `error: ...` (a diagnostic outside any test), `exit N`, `timeout`. */
  failures: string[];
  /** The last lines the program wrote to stderr (the runtime's error), for reasons. */
  stderrTail: string;
  /** Run twice: its first run failed in a way `allowed` did not name. */
  retried: boolean;
}

/** Lines of a TAP stream that are failures. The suite reports some failures only as a YAML `error` before any test line. */
export function failuresOf(tap: string, exitCode: number | null, timedOut: boolean): Omit<ProgramResult, "program" | "stderrTail" | "retried"> {
  const failures: string[] = [];
  let ok = 0;
  let notOk = 0;
  let skipped = 0;
  let sawTest = false;
  const lines = tap.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^ok \d+/.test(line)) {
      sawTest = true;
      if (/# SKIP/i.test(line)) skipped++;
      else ok++;
    } else if (/^not ok \d+/.test(line)) {
      sawTest = true;
      notOk++;
      failures.push(line.trim());
    } else if (!sawTest && line.trim() === "---") {
      // A diagnostic before any test line is the suite's way of failing a whole program.
      const block: string[] = [];
      for (i++; i < lines.length && lines[i]!.trim() !== "..."; i++) block.push(lines[i]!);
      const error = /"error":\s*"((?:[^"\\]|\\.)*)"/.exec(block.join("\n"));
      if (error) failures.push(`error: ${JSON.parse(`"${error[1]}"`).split("\n")[0]}`);
    }
  }
  if (timedOut) failures.push("timeout");
  else if (exitCode !== 0) failures.push(`exit ${exitCode}`);
  // A missing plan is no failure: the *_fail programs print nothing when create fails, as it should.
  return { ok, notOk, skipped, failures };
}

export interface SuiteRun {
  results: ProgramResult[];
  /** Cgroup dirs the suite made (its fixed `testdir/cgrouptest` parents), removed afterwards. */
  removedCgroups: string[];
}

/** The validation programs the build made, by name (validation/<name>). */
export function programs(bin: string): string[] {
  return readdirSync(bin)
    .filter((f) => f.endsWith(".t"))
    .map((f) => f.slice(0, -2))
    .sort();
}

/**
 * Runs every program in `names` against `runtime` (argv before the verb, e.g. [bunrunc, "--root",
 * dir]) and cleans up after the suite: containers left in its root, mounts left under its dirs,
 * cgroup dirs named testdir it created. `allowed`: each program's expected failures (see below).
 */
export function runSuite(bin: string, dir: string, runtime: string[], names: string[], allowed?: Map<string, string[]>): SuiteRun {
  const work = join(dir, "work");
  const tmp = join(dir, "tmp");
  const root = runtime[runtime.indexOf("--root") + 1]!;
  // Searchable by anyone: containers with a user namespace reach their bundle through these dirs.
  chmodSync(dir, 0o755);
  for (const d of [work, tmp, root]) mkdirSync(d, { recursive: true, mode: 0o755 });
  // A copy: the suite copies runtimetest into each bundle, and would copy a symlink as a symlink.
  copyFileSync(join(bin, "runtimetest"), join(work, "runtimetest"));
  chmodSync(join(work, "runtimetest"), 0o755);
  symlinkSync(join(bin, "rootfs-amd64.tar.gz"), join(work, "rootfs-amd64.tar.gz"));
  const wrapper = join(dir, "runtime.sh");
  writeFileSync(wrapper, `#!/bin/sh\nexec ${runtime.map((a) => `'${a}'`).join(" ")} "$@"\n`, { mode: 0o755 });
  const cgroupsBefore = new Set(testdirCgroups());
  const results: ProgramResult[] = [];
  try {
    const once = (program: string): ProgramResult => {
      const r = Bun.spawnSync([join(bin, `${program}.t`)], {
        cwd: work,
        env: { ...process.env, RUNTIME: wrapper, TMPDIR: tmp },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        timeout: 120_000,
      });
      const stderr = r.stderr.toString().trim().split("\n");
      return { program, ...failuresOf(r.stdout.toString(), r.exitCode, r.signalCode === "SIGTERM"), stderrTail: stderr.slice(-2).join(" | "), retried: false };
    };
    for (const program of names) {
      const first = once(program);
      // Some programs race their own container (killsig signals sh before its trap is set, and
      // an untrapped signal does nothing to a PID 1): a failure the table does not allow is
      // run once more, and only a second one counts.
      const ok = allowed?.get(program) ?? [];
      if (allowed && first.failures.some((f) => !ok.includes(f))) results.push({ ...once(program), retried: true });
      else results.push(first);
    }
  } finally {
    cleanupRoot(runtime);
    detachMountsUnder(dir);
  }
  const removedCgroups = testdirCgroups().filter((d) => !cgroupsBefore.has(d));
  for (const d of removedCgroups.sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
  return { results, removedCgroups };
}

/** Containers the suite left in the root (a program that failed midway): force-deleted. */
function cleanupRoot(runtime: string[]): void {
  const list = Bun.spawnSync([...runtime, "list", "-q"], { stdout: "pipe", stderr: "ignore" });
  for (const id of list.stdout.toString().split("\n").filter(Boolean)) Bun.spawnSync([...runtime, "delete", "--force", id], { stdout: "ignore", stderr: "ignore" });
}

/**
 * Mounts left under the tier's dirs: runc leaves a no-mount-namespace container's mounts on the
 * host (README, deviations). Detached deepest first, so removing the dir never walks into a
 * procfs or sysfs.
 */
function detachMountsUnder(dir: string): void {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) Bun.spawnSync(["umount", "-l", p], { stdout: "ignore", stderr: "ignore" });
  const left = readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => (l.split(" ")[4] ?? "").startsWith(dir));
  if (left) throw new Error(`mounts under ${dir} could not be detached; not removing it`);
}

/** Cgroup dirs of the suite's fixed paths (`testdir/...`) in every hierarchy, at any depth up to 6. */
function testdirCgroups(): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number, inside: boolean) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      const hit = inside || e.name === "testdir";
      if (hit) out.push(p);
      if (depth < 6) walk(p, depth + 1, hit);
    }
  };
  walk("/sys/fs/cgroup", 0, false);
  return out;
}

/** The committed table: program, expected result (`pass` or one failure line), reason. */
export interface Expected {
  program: string;
  result: string;
  reason: string;
}

export function readExpected(path: string): Expected[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => {
      const [program, result, reason] = l.split("\t");
      if (!program || !result) throw new Error(`${path}: a row needs program<TAB>result<TAB>reason: ${l}`);
      return { program, result, reason: reason ?? "" };
    });
}

export function totals(results: ProgramResult[]): { ok: number; notOk: number; skipped: number; failingPrograms: number } {
  return {
    ok: results.reduce((n, r) => n + r.ok, 0),
    notOk: results.reduce((n, r) => n + r.notOk, 0),
    skipped: results.reduce((n, r) => n + r.skipped, 0),
    failingPrograms: results.filter((r) => r.failures.length).length,
  };
}
