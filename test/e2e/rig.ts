// The end-to-end rig: real engines (podman, containerd, Docker) from Debian packages, each run
// hermetically (private storage, config, sockets under one temp dir, a private cgroup parent),
// driving an OCI runtime binary chosen per scenario. Debian's runc is the control: a scenario that
// passes with runc and fails with bunrunc is a bunrunc bug, not a rig bug.
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildImageArchive } from "../../scripts/e2e/image.ts";

export const REPO = resolve(import.meta.dir, "../..");

export interface Runtime {
  /** Short name used in test titles and as the engine-side runtime name. */
  name: string;
  path: string;
}

const ALL_RUNTIMES: Runtime[] = [
  { name: "runc", path: "/usr/sbin/runc" },
  { name: "bunrunc", path: join(REPO, "dist/bunrunc") },
];

/** Every runtime, or the comma list in BUNRUNC_E2E_RUNTIMES (e.g. "runc" while iterating). */
export function runtimes(): Runtime[] {
  const only = process.env.BUNRUNC_E2E_RUNTIMES;
  if (!only) return ALL_RUNTIMES;
  const names = new Set(only.split(",").map((s) => s.trim()));
  return ALL_RUNTIMES.filter((r) => names.has(r.name));
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion; a hang is killed after `timeoutMs` and reported as code -1. */
export function run(argv: string[], opts: { env?: Record<string, string>; timeoutMs?: number; stdin?: string } = {}): Result {
  const r = Bun.spawnSync(argv, {
    env: { ...process.env, ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 30_000,
  });
  const code = r.exitCode ?? -1;
  return { code, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/**
 * run() for a call that leaves a container process behind (create, run -d): the container keeps
 * the caller's stdio, as runc's does, so it would hold run()'s pipes open and the call would
 * wait out its whole timeout however soon it returned. Its output goes to files instead, read
 * once it returns.
 */
export function runDetaching(argv: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Result {
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-detaching-"));
  const [out, err] = [join(dir, "stdout"), join(dir, "stderr")];
  const fds = [openSync(out, "w"), openSync(err, "w")] as const;
  try {
    const r = Bun.spawnSync(argv, { env: { ...process.env, ...opts.env }, stdin: "ignore", stdout: fds[0], stderr: fds[1], timeout: opts.timeoutMs ?? 30_000 });
    return { code: r.exitCode ?? -1, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
  } finally {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like run() but fails with the command's stderr when it exits non-zero. */
export function ok(argv: string[], opts: Parameters<typeof run>[1] = {}): string {
  const r = run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/** Runs argv with a pseudo-terminal as its stdin/stdout (util-linux `script`), as a user at a shell would. */
export function runPty(argv: string[], opts: Parameters<typeof run>[1] = {}): Result {
  const r = run(["script", "-qefc", shellQuote(argv), "/dev/null"], opts);
  return { ...r, stdout: r.stdout.replaceAll("\r", "") };
}

/** Installs missing Debian packages; returns "" when all commands exist, else why not. */
export function ensurePackages(need: { cmd: string; pkg: string }[]): string {
  const missing = need.filter((n) => !Bun.which(n.cmd, { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }));
  if (missing.length === 0) return "";
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  // Debian's own switch against starting services from maintainer scripts: docker.io and
  // containerd would otherwise start system daemons (with host iptables rules) on install.
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, "#!/bin/sh\n# bunrunc e2e: no service starts during package install\nexit 101\n", { mode: 0o755 });
  try {
    let r = run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...pkgs], { env, timeoutMs: 600_000 });
    if (r.code !== 0) {
      run(["apt-get", "update", "-qq"], { env, timeoutMs: 300_000 });
      r = run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...pkgs], { env, timeoutMs: 600_000 });
    }
    if (r.code !== 0) return `apt-get install ${pkgs.join(" ")} failed: ${r.stderr.trim().split("\n").pop()}`;
    return "";
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

/** A unique, short name: engines put it in socket paths (108-byte limit) and cgroup paths. */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A daemon started by the rig: stdout/stderr go to a log file so a full pipe can never stall it. */
export interface Daemon {
  pid: number;
  log: string;
  proc: ReturnType<typeof Bun.spawn>;
}

export function startDaemon(argv: string[], log: string, env: Record<string, string> = {}): Daemon {
  const proc = Bun.spawn(argv, { env: { ...process.env, ...env }, stdin: "ignore", stdout: Bun.file(log), stderr: Bun.file(log) });
  return { pid: proc.pid, log, proc };
}

export function daemonLog(d: Daemon): string {
  return existsSync(d.log) ? readFileSync(d.log, "utf8").split("\n").slice(-15).join("\n") : "";
}

/** SIGTERM by pid, SIGKILL after `graceMs`; waits for the exit. */
export async function stopDaemon(d: Daemon | undefined, graceMs = 10_000): Promise<void> {
  if (!d || d.proc.exitCode !== null || d.proc.signalCode !== null) return;
  process.kill(d.pid, "SIGTERM");
  const exited = await Promise.race([d.proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (!exited) {
    process.kill(d.pid, "SIGKILL");
    await d.proc.exited;
  }
}

const CGROUP_ROOT = "/sys/fs/cgroup";

function cgroupHierarchies(): string[] {
  return readdirSync(CGROUP_ROOT).map((c) => join(CGROUP_ROOT, c)).filter((p) => statSync(p).isDirectory());
}

function subdirsDepthFirst(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...subdirsDepthFirst(join(dir, e.name)));
  }
  out.push(dir);
  return out;
}

/** Pids still in the cgroup subtree `name` (relative to each hierarchy's root). */
export function cgroupPids(name: string): number[] {
  const pids = new Set<number>();
  for (const h of cgroupHierarchies()) {
    const top = join(h, name);
    if (!existsSync(top)) continue;
    for (const d of subdirsDepthFirst(top)) {
      for (const line of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) if (line) pids.add(Number(line));
    }
  }
  return [...pids];
}

/**
 * Removes the cgroup subtree `name` from every hierarchy. Processes still in it were started by
 * this rig's engines (the subtree is ours alone), so they are SIGKILLed by pid first.
 */
export async function removeCgroupTree(name: string): Promise<string[]> {
  for (const pid of cgroupPids(name)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  const left: string[] = [];
  for (const h of cgroupHierarchies()) {
    const top = join(h, name);
    if (!existsSync(top)) continue;
    for (const d of subdirsDepthFirst(top)) {
      let removed = false;
      for (let i = 0; i < 40 && !removed; i++) {
        try {
          rmdirSync(d); // cgroup dirs go only with rmdir(2), once empty of tasks
          removed = true;
        } catch {
          await Bun.sleep(50); // a killed task may take a moment to leave
        }
      }
      if (!removed) left.push(d);
    }
  }
  return left;
}

/** Lazily unmounts everything mounted under `dir` (deepest first), e.g. an engine's shm and rootfs mounts. */
export function unmountUnder(dir: string): void {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .map((p) => p.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(dir + "/"))
    .sort((a, b) => b.length - a.length);
  for (const p of points) run(["umount", "-l", p], { timeoutMs: 10_000 });
}

/** Unmounts and removes a rig temp dir. */
export function removeTempDir(dir: string | undefined): void {
  if (!dir || !existsSync(dir)) return;
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Pids of processes whose command line mentions `needle` — a rig temp dir is unique, so these are
 * processes our engines started (detached shims, conmon) that outlived their daemon.
 */
export function pidsMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(needle)) pids.push(Number(e));
    } catch {}
  }
  return pids;
}

/** SIGKILLs (by pid) what pidsMentioning(needle) finds, then waits for them to go. */
export async function killMentioning(needle: string): Promise<void> {
  for (const pid of pidsMentioning(needle)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await waitFor(`processes mentioning ${needle} to exit`, () => pidsMentioning(needle).length === 0, 5_000).catch(() => {});
}

/** What the test podman runs with: the defaults fit these machines; the systemd tier wants systemd's own. */
export interface PodmanConfigOptions {
  /** Default rlimits a host without CAP_SYS_RESOURCE can grant. */
  ulimits?: boolean;
  /** "cgroupfs" (no systemd as PID 1) or "systemd" (the systemd tier: podman passes --systemd-cgroup). */
  cgroupManager?: "cgroupfs" | "systemd";
  /** "file" (events.log under `d`) or "journald". */
  eventsLogger?: "file" | "journald";
}

/**
 * A private podman configuration under `d` (containers.conf, storage.conf, registries.conf and
 * their directories): the settings these machines need (see test/fixtures/client-invocations.md)
 * — cgroupfs (no systemd), a file event log, no network, JSON log flags for both runtimes, vfs
 * storage — unless `opts` says otherwise.
 */
export function writePodmanConfig(d: string, opts: PodmanConfigOptions = {}): void {
  for (const sub of ["storage", "run", "tmp", "net"]) mkdirSync(join(d, sub), { recursive: true });
  const ulimits = opts.ulimits ? 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n' : "";
  const events = opts.eventsLogger ?? "file";
  const eventsLog = events === "file" ? `events_logfile_path = "${d}/events.log"\n` : "";
  writeFileSync(
    join(d, "containers.conf"),
    `[containers]
netns = "none"
${ulimits}[engine]
cgroup_manager = "${opts.cgroupManager ?? "cgroupfs"}"
events_logger = "${events}"
${eventsLog}runtime_supports_json = ["runc", "bunrunc"]
tmp_dir = "${d}/tmp"
static_dir = "${d}/storage/libpod"
volume_path = "${d}/storage/volumes"
[network]
network_config_dir = "${d}/net"
`,
  );
  writeFileSync(join(d, "storage.conf"), `[storage]\ndriver = "vfs"\ngraphroot = "${d}/storage"\nrunroot = "${d}/run"\n`);
  writeFileSync(join(d, "registries.conf"), "unqualified-search-registries = []\n");
}

/** The environment that points podman at the configuration writePodmanConfig wrote under `d`. */
export function podmanEnv(d: string): Record<string, string> {
  return {
    CONTAINERS_CONF: join(d, "containers.conf"),
    CONTAINERS_STORAGE_CONF: join(d, "storage.conf"),
    CONTAINERS_REGISTRIES_CONF: join(d, "registries.conf"),
  };
}

/**
 * A hermetic podman as root under `d`: its configuration written, the test image (IMAGE_TAG)
 * loaded from a local archive; returns the environment every podman call then needs.
 */
export function setupPodman(d: string, opts: PodmanConfigOptions & { loadTimeoutMs?: number } = {}): Record<string, string> {
  writePodmanConfig(d, opts);
  const env = podmanEnv(d);
  const archive = join(d, "image.tar");
  buildImageArchive(archive);
  const r = run(["podman", "load", "-i", archive], { env, timeoutMs: opts.loadTimeoutMs });
  if (r.code !== 0) throw new Error(`podman load: ${r.stderr.trim()}`);
  return env;
}

/** podman driving `rt` (its runtime --root under `d`) with the environment setupPodman returned. */
export function runPodman(d: string, env: Record<string, string>, rt: Runtime, args: string[], timeoutMs: number): Result {
  return run(["podman", "--runtime", rt.path, "--runtime-flag", `root=${d}/state-${rt.name}`, ...args], { env, timeoutMs });
}
