// `bun run bench` (scripts/bench.sh builds first): bunrunc against Debian's runc, interleaved in
// one run, plus the kernel floor, wall time and CPU time per container (the resident server's
// included); prints a table and writes bench/results/latest.{json,svg}.
// Flags: --runs N (latency samples per case, default 30), --quick (5 runs, 1 concurrent round),
// --concurrency N (default 100), --only a,b (case ids: CASES below; `--only direct` and
// `--only engines` name groups),
// --out DIR (default bench/results), --merge (with --only: the rerun cases replace theirs in the
// DIR's latest.json and the others stay, so a case missed for a noisy host can be redone alone).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { busyboxIsStatic, makeBundles } from "./bundle.ts";
import { concurrentMany, waitingInitRss } from "./cases-scale.ts";
import { seccompCompile } from "./cases-seccomp.ts";
import { coldRun, createStartDelete, execTrue, hookedRun, runTrue, versionStartup } from "./cases-time.ts";
import { engineCases, engineRequirements, ENGINES } from "./cases-engines.ts";
import type { CaseResult, Ctx } from "./context.ts";
import { resultJson, table } from "./report.ts";
import { bunrunc, bunruncDirect, runc, versionLine, which } from "./runtimes.ts";
import { serversOf } from "./server-cpu.ts";
import { Launcher } from "./spawn.ts";
import { svgChart } from "./svg.ts";

const REPO = resolve(import.meta.dir, "..");
const { values: flags } = parseArgs({
  options: {
    runs: { type: "string" },
    quick: { type: "boolean" },
    concurrency: { type: "string" },
    only: { type: "string" },
    out: { type: "string" },
    merge: { type: "boolean" },
  },
});

/** Every case id, in the order they run; `--only` takes any of them (or a group below). */
const CASES = ["startup", "run", "run-direct", "csd", "csd-direct", "many", "wait", "exec", "exec-direct", "cold", "hooked", ...ENGINES, "seccomp"];
const GROUPS: Record<string, string[]> = { direct: ["run-direct", "csd-direct", "exec-direct"], engines: [...ENGINES] };

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(1);
}

function requirements(): { bin: string; runcBin: string } {
  if (process.getuid?.() !== 0) fail("needs root (containers with namespaces and cgroups)");
  const bin = join(REPO, "dist/bunrunc");
  if (!existsSync(bin)) fail(`${bin} is missing: run bash scripts/build.sh (bun run bench does)`);
  if (!existsSync(`${bin}-core`)) fail(`${bin}-core (the resident server the front hands calls to) is missing: run bash scripts/build.sh`);
  const off = process.env.BUNRUNC_SERVER;
  if (off === "off" || off === "0") fail(`BUNRUNC_SERVER=${off} in the environment: bunrunc's calls would not be served, and the targets are for served calls; unset it`);
  const runcBin = which("runc") ?? fail("runc is not installed (apt-get install runc)");
  for (const tool of ["unshare", "nsenter", "chroot"]) if (!which(tool)) fail(`${tool} is not installed (util-linux/coreutils)`);
  if (!busyboxIsStatic()) fail("/bin/busybox is missing or not static (apt-get install busybox-static)");
  return { bin, runcBin };
}

function cgroupLayout(): string {
  const unified = existsSync("/sys/fs/cgroup/cgroup.controllers");
  if (unified) return "cgroup v2 (unified)";
  return existsSync("/sys/fs/cgroup/unified") ? "cgroup v1 hybrid" : "cgroup v1";
}

function crunNote(): string {
  const crun = which("crun");
  if (!crun) return "crun: not installed, and it refuses this cgroup v1 hybrid host; not measured (the cgroup v2 VM tier is where it could run)";
  return `crun (${versionLine(crun)}) present but not measured: it refuses this cgroup v1 hybrid host`;
}

/** A fresh dir on tmpfs (/dev/shm) when there is one, else under the temp dir. */
function stateRootBase(): string {
  const shm = "/dev/shm";
  const base = existsSync(shm) && fsType(shm) === "tmpfs" ? shm : tmpdir();
  return mkdtempSync(join(base, "bunrunc-bench-state-"));
}

function fsType(dir: string): string {
  // The filesystem whose mount point is the longest prefix of dir.
  let best = { point: "", type: "?" };
  for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
    const [, point, type] = line.split(" ");
    if (point && type && (dir === point || dir.startsWith(point.endsWith("/") ? point : `${point}/`)) && point.length >= best.point.length) best = { point, type };
  }
  return best.type;
}

async function main(): Promise<void> {
  const { bin, runcBin } = requirements();
  const quick = Boolean(flags.quick);
  const runs = Number(flags.runs ?? (quick ? 5 : 30));
  const concurrency = Number(flags.concurrency ?? 100);
  if (!(runs > 0) || !(concurrency > 0)) fail("--runs and --concurrency take a positive number");
  const only = new Set((flags.only ?? CASES.join(",")).split(",").flatMap((c) => GROUPS[c] ?? [c]));
  const unknown = [...only].filter((c) => !CASES.includes(c));
  if (unknown.length) fail(`--only: no case ${unknown.join(", ")} (cases: ${CASES.join(", ")}; groups: ${Object.keys(GROUPS).join(", ")})`);
  // A runtime or engine a selected case compares against must be there: no empty rows.
  const engineProblem = engineRequirements([...only].filter((c) => ENGINES.includes(c)));
  if (engineProblem) fail(engineProblem);
  const outDir = resolve(flags.out ?? join(REPO, "bench/results"));
  const settings = { runs, warmup: 2, concurrency, concurrentRounds: quick ? 1 : 3 };
  const earlier = flags.merge ? earlierRun(outDir) : undefined;
  if (earlier && JSON.stringify(earlier.settings) !== JSON.stringify(settings)) fail(`--merge: ${join(outDir, "latest.json")} was measured with ${JSON.stringify(earlier.settings)}, this run would use ${JSON.stringify(settings)}`);

  const work = mkdtempSync(join(tmpdir(), "bunrunc-bench-"));
  // State roots on tmpfs, as /run is on a normal host (here /run may be disk-backed).
  const stateDir = stateRootBase();
  const launcher = new Launcher(join(work, "stderr.log"));
  let n = 0;
  const ctx: Ctx = {
    launcher,
    runtimes: [bunrunc(bin, stateDir), runc(runcBin, stateDir)],
    directRuntimes: [bunruncDirect(bin, stateDir), runc(runcBin, stateDir)],
    bundles: makeBundles(join(work, "bundles")),
    work,
    runs,
    warmup: settings.warmup,
    concurrency,
    concurrentRounds: settings.concurrentRounds,
    live: new Map(),
    nextId: (prefix) => `bench-${process.pid}-${prefix}-${n++}`,
    idMarker: `bench-${process.pid}-`,
  };
  let cases: CaseResult[] = [];
  const step = async (key: string, what: string, f: () => CaseResult | CaseResult[] | Promise<CaseResult | CaseResult[]>) => {
    if (!only.has(key)) return;
    const t0 = performance.now();
    console.error(`bench: ${what} ...`);
    // Served cases meter a warm server: one is up before their warm-up (the cold case stops it;
    // the engine cases stop it for the engine to start its own).
    if (!ENGINES.includes(key)) warmServer(ctx.launcher, bin, ctx.runtimes[0]!.root, ctx.runtimes[0]!.core!);
    const r = await f();
    cases.push(...(Array.isArray(r) ? r : [r]));
    console.error(`bench: ${what} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  try {
    await step("startup", "(0) --version", () => versionStartup(ctx));
    await step("run", "(1) run", () => runTrue(ctx));
    await step("run-direct", "(1d) run, direct", () => runTrue(ctx, "direct"));
    await step("csd", "(2) create+start+delete", () => createStartDelete(ctx));
    await step("csd-direct", "(2d) create+start+delete, direct", () => createStartDelete(ctx, "direct"));
    await step("many", `(3) ${concurrency} concurrent`, () => concurrentMany(ctx));
    await step("wait", "(4) waiting process RSS", () => waitingInitRss(ctx));
    await step("exec", "(5) exec", () => execTrue(ctx));
    await step("exec-direct", "(5d) exec, direct", () => execTrue(ctx, "direct"));
    await step("cold", "(7) first call, no server", () => coldRun(ctx));
    await step("hooked", "(8) run with a prestart hook", () => hookedRun(ctx));
    for (const engine of ENGINES) await step(engine, `(9) ${engine}`, () => engineCases(ctx, engine, runcBin));
    await step("seccomp", "(6) seccomp compile", () => seccompCompile(Math.max(runs, 50)));
  } finally {
    cleanup(ctx);
    launcher.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }

  const meta = {
    date: new Date().toISOString(),
    host: { kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(), cpus: cpus().length, cpu: cpus()[0]?.model ?? "", cgroups: cgroupLayout() },
    versions: { bunrunc: versionLine(bin), runc: versionLine(runcBin), bun: Bun.version },
    settings,
    notes: [
      crunNote(),
      "times are wall clock from spawn to reap, measured by a Bun process (same overhead for every column)",
      "CPU per container is user+sys: each launched process with what it reaped (wait4's rusage), plus, for bunrunc, the resident server's CPU over the same calls divided by the containers; kernel work deferred to kernel threads (netns cleanup, cgroup release) is in neither runtime's figure",
      `state roots under ${dirname(stateDir)} (${fsType(dirname(stateDir))}); bundles under ${tmpdir()}`,
      `host load average at the end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    ],
  };
  for (const c of cases) c.measured = meta.date;
  if (earlier) {
    const fresh = new Map(cases.map((c) => [c.id, c]));
    const kept = earlier.cases.filter((c) => !fresh.has(c.id)).map((c) => ({ ...c, measured: c.measured ?? earlier.date }));
    cases = [...earlier.cases.map((c) => fresh.get(c.id) ?? kept.find((k) => k.id === c.id)!), ...cases.filter((c) => !earlier.cases.some((e) => e.id === c.id))];
    const byDate = Map.groupBy(cases, (c) => c.measured!);
    const from = [...byDate].map(([date, cs]) => `${cs.map((c) => c.id).join(", ")} at ${date}`).join("; ");
    meta.notes.push(`merged (--merge) from more than one run: ${from}`, ...earlier.notes.filter((n) => n.startsWith("host load")).map((n) => `run of ${earlier.date}: ${n}`));
  }
  console.log(table(cases));
  for (const note of meta.notes) console.log(`  ${note}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "latest.json"), resultJson(meta, cases));
  writeFileSync(join(outDir, "latest.svg"), svgChart(cases, `${meta.date.slice(0, 10)} · ${meta.host.kernel} · ${meta.host.cpus} CPUs · ${meta.host.cgroups} · ${meta.versions.runc}`));
  console.log(`\nwrote ${join(outDir, "latest.json")} and latest.svg`);
}

/** Calls `state` until one is served (the first call of a build starts the server and runs directly). */
function warmServer(launcher: Launcher, bin: string, root: string, core: string): void {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (launcher.tryRun([bin, "--debug", "--root", root, "state", "bench-warm-up"]).stderr.includes("served by the resident server") && serversOf(core).length === 1) return;
    Bun.sleepSync(20);
  }
  fail(`no resident server of ${core} came up: bunrunc's calls would not be served`);
}

/** --merge: the latest.json in outDir, whose cases this run's replace by id. */
function earlierRun(outDir: string): { date: string; notes: string[]; settings: unknown; cases: CaseResult[] } {
  const path = join(outDir, "latest.json");
  if (!flags.only) fail("--merge goes with --only (the cases to redo)");
  if (!existsSync(path)) fail(`--merge: ${path} does not exist`);
  const r = JSON.parse(readFileSync(path, "utf8")) as { date?: string; notes?: string[]; settings?: unknown; cases?: CaseResult[] };
  if (!r.date || !Array.isArray(r.cases)) fail(`--merge: ${path} is not a bench result (no date or cases)`);
  return { date: r.date, notes: r.notes ?? [], settings: r.settings, cases: r.cases };
}

/** Whatever a failed case left: delete --force each container still on the ledger. */
function cleanup(ctx: Ctx): void {
  for (const rt of ctx.runtimes) {
    for (const id of ctx.live.get(rt.name) ?? []) {
      const r = ctx.launcher.tryRun(rt.delete(id));
      if (r.code !== 0) console.error(`bench: cleanup: ${rt.name} delete --force ${id}: ${r.stderr}`);
    }
  }
}

await main();
