// (9) Whole-engine start: `docker run --rm` (its own network namespace: dockerd adds a prestart
// hook; and --network host: no hook), `podman run --rm` and `ctr run --rm` of busybox /bin/true,
// each engine hermetic as in test/e2e (private daemon, storage, sockets, cgroup parent, the image
// from a local archive), with runc and with bunrunc, interleaved. Then the runtime's share: the
// same runs with each runtime behind bench/runtime-timer.zig, which logs the wall time of every
// runtime call the engine makes; the share is their sum per container.
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildImageArchive, IMAGE_TAG } from "../scripts/e2e/image.ts";
import { daemonLog, killMentioning, removeCgroupTree, removeTempDir, run, startDaemon, stopDaemon, tempDir, uniqueName, waitFor, writePodmanConfig, type Daemon } from "../test/e2e/rig.ts";
import { rotated, type CaseResult, type Ctx } from "./context.ts";
import { ServerMeter, serversOf, stopServersOf } from "./server-cpu.ts";
import { summarize } from "./spawn.ts";

export const ENGINES = ["docker", "docker-host", "podman", "ctr"];

const REPO = resolve(import.meta.dir, "..");
const DOCKER = "/usr/bin/docker";
const NEEDS: Record<string, string[]> = {
  docker: ["dockerd", DOCKER, "containerd", "containerd-shim-runc-v2", "docker-init"],
  "docker-host": ["dockerd", DOCKER, "containerd", "containerd-shim-runc-v2", "docker-init"],
  podman: ["podman", "conmon"],
  ctr: ["containerd", "ctr", "containerd-shim-runc-v2"],
};

/** What is missing for the selected engine cases, as one line ("" when nothing is). */
export function engineRequirements(selected: string[]): string {
  const missing = new Set<string>();
  for (const e of selected) for (const cmd of NEEDS[e] ?? []) if (!(cmd.startsWith("/") ? existsSync(cmd) : Bun.which(cmd, { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }))) missing.add(cmd);
  if (!missing.size) return "";
  return `${[...missing].join(", ")} not installed: the engine cases (${selected.join(", ")}) compare bunrunc and runc under those engines (apt-get install docker.io containerd podman tini; or leave them out with --only)`;
}

interface RuntimeUnderTest {
  name: "bunrunc" | "runc";
  path: string;
}

/** One engine, set up once for all its runs. */
interface Engine {
  title: string;
  notes: string[];
  target?: number;
  /** The argv of one `run --rm` of /bin/true with `rt` (its path, or a timer in its place). */
  runArgv(rt: RuntimeUnderTest, timed: boolean): string[];
  env: Record<string, string>;
  tearDown(): Promise<void>;
}

/** The timer (bench/runtime-timer.zig) built once, and a copy per runtime whose `.target` names it. */
function timers(work: string, rts: RuntimeUnderTest[]): Record<string, string> {
  const built = join(work, "runtime-timer");
  if (!existsSync(built)) {
    const r = Bun.spawnSync(["bash", join(REPO, "scripts/zig.sh"), "build-exe", "-O", "ReleaseSmall", "-fstrip", "-fsingle-threaded", join(REPO, "bench/runtime-timer.zig"), `-femit-bin=${built}`], { cwd: work, stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`bench: building bench/runtime-timer.zig failed: ${r.stderr.toString().trim()}`);
  }
  const out: Record<string, string> = {};
  for (const rt of rts) {
    const t = join(work, `timed-${rt.name}`);
    copyFileSync(built, t);
    Bun.spawnSync(["chmod", "755", t]);
    writeFileSync(`${t}.target`, `${rt.path}\n`);
    out[rt.name] = t;
  }
  return out;
}

/** The calls logged since the last look (and the log emptied): their µs and verbs. */
function takeLog(timer: string): { us: number; verb: string }[] {
  const log = `${timer}.log`;
  if (!existsSync(log)) return [];
  const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
  rmSync(log);
  return lines.map((l) => {
    const [us, ...argv] = l.split(" ");
    return { us: Number(us), verb: verbOf(argv) };
  });
}

/** The verb of a runc command line: the first word that is not a flag or a flag's value. */
function verbOf(argv: string[]): string {
  const VALUED = new Set(["--root", "--log", "--log-format", "--criu"]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUED.has(a)) i++;
    else if (!a.startsWith("-")) return a;
  }
  return "?";
}

async function dockerEngine(ctx: Ctx, rts: RuntimeUnderTest[], timed: Record<string, string>, network: "none" | "host"): Promise<Engine> {
  const dir = tempDir("bunrunc-bench-docker-");
  const cgroupParent = uniqueName("bunrunc-bench-docker-");
  const env = { DOCKER_HOST: `unix://${dir}/docker.sock` };
  writeFileSync(join(dir, "daemon.json"), "{}\n");
  const engineName = (rt: RuntimeUnderTest, t: boolean) => `bench-${rt.name}${t ? "-timed" : ""}`;
  const argv = [
    "dockerd", "--config-file", join(dir, "daemon.json"), "--data-root", join(dir, "data"), "--exec-root", join(dir, "exec"),
    "-H", env.DOCKER_HOST, "--pidfile", join(dir, "docker.pid"), "--storage-driver", "vfs",
    "--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
    "--cgroup-parent", `/${cgroupParent}`,
    ...rts.flatMap((rt) => ["--add-runtime", `${engineName(rt, false)}=${rt.path}`, "--add-runtime", `${engineName(rt, true)}=${timed[rt.name]}`]),
  ];
  const daemon: Daemon = startDaemon(argv, join(dir, "dockerd.log"));
  const docker = (args: string[], timeoutMs = 60_000) => run([DOCKER, ...args], { env, timeoutMs });
  const tearDown = async () => {
    const ids = docker(["ps", "-aq"]).stdout.split("\n").filter(Boolean);
    if (ids.length) docker(["rm", "-f", ...ids], 20_000);
    await stopDaemon(daemon, 10_000);
    await killMentioning(dir);
    await removeCgroupTree(cgroupParent);
    removeTempDir(dir);
  };
  try {
    await waitFor(`dockerd socket (log: ${daemonLog(daemon)})`, () => existsSync(join(dir, "docker.sock")) && docker(["version"]).code === 0, 60_000);
    buildImageArchive(join(dir, "image.tar"));
    const r = docker(["load", "-i", join(dir, "image.tar")]);
    if (r.code !== 0) throw new Error(`docker load: ${r.stderr.trim()}`);
  } catch (e) {
    await tearDown();
    throw e;
  }
  return {
    title: `docker run --rm --network ${network} busybox /bin/true`,
    notes:
      network === "none"
        ? ["Docker 20.10 (dockerd, its containerd and shim); a container with its own network namespace gets dockerd's prestart hook (libnetwork-setkey), so this is a hooked container"]
        : ["Docker 20.10; --network host: no network namespace, no hook"],
    target: network === "none" ? 0.7 : undefined,
    env,
    runArgv: (rt, t) => [DOCKER, "run", "--rm", "--runtime", engineName(rt, t), "--network", network, IMAGE_TAG, "/bin/true"],
    tearDown,
  };
}

async function podmanEngine(timed: Record<string, string>): Promise<Engine> {
  const dir = tempDir("bunrunc-bench-podman-");
  const cgroupParent = uniqueName("bunrunc-bench-podman-");
  writePodmanConfig(dir, { ulimits: true });
  const env = { CONTAINERS_CONF: join(dir, "containers.conf"), CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"), CONTAINERS_REGISTRIES_CONF: join(dir, "registries.conf") };
  const tearDown = async () => {
    run(["podman", "rm", "-af", "-t", "0"], { env });
    run(["podman", "rmi", "-af"], { env });
    await killMentioning(dir);
    await removeCgroupTree(cgroupParent);
    removeTempDir(dir);
  };
  try {
    buildImageArchive(join(dir, "image.tar"));
    const r = run(["podman", "load", "-i", join(dir, "image.tar")], { env, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`podman load: ${r.stderr.trim()}`);
  } catch (e) {
    await tearDown();
    throw e;
  }
  return {
    title: "podman run --rm busybox /bin/true",
    notes: ["podman 4.3 with conmon, cgroupfs, no network (netns none), vfs storage"],
    env,
    runArgv: (rt, t) => ["podman", "--runtime", t ? timed[rt.name]! : rt.path, "--runtime-flag", `root=${dir}/state-${rt.name}`, "run", "--rm", "--cgroup-parent", `/${cgroupParent}`, IMAGE_TAG, "/bin/true"],
    tearDown,
  };
}

async function ctrEngine(ctx: Ctx, timed: Record<string, string>): Promise<Engine> {
  const dir = tempDir("bunrunc-bench-ctr-");
  const ns = uniqueName("bunrunc-bench-ctr-");
  const env = { CONTAINERD_SNAPSHOTTER: "native" };
  writeFileSync(
    join(dir, "config.toml"),
    `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${dir}/c.sock"\n[ttrpc]\n  address = "${dir}/c.sock.ttrpc"\n[debug]\n  address = ""\n[metrics]\n  address = ""\n`,
  );
  const daemon = startDaemon(["containerd", "--config", join(dir, "config.toml")], join(dir, "containerd.log"));
  const ctr = (args: string[], timeoutMs = 60_000) => run(["ctr", "--address", join(dir, "c.sock"), "-n", ns, ...args], { env, timeoutMs });
  const tearDown = async () => {
    for (const id of ctr(["container", "ls", "-q"]).stdout.split("\n").filter(Boolean)) {
      ctr(["task", "kill", "-s", "SIGKILL", id]);
      ctr(["task", "rm", "-f", id]);
      ctr(["container", "rm", id]);
    }
    ctr(["images", "rm", IMAGE_TAG]);
    ctr(["namespaces", "rm", ns]);
    await stopDaemon(daemon);
    await killMentioning(dir);
    await removeCgroupTree(ns);
    removeTempDir(dir);
  };
  try {
    await waitFor(`containerd socket (log: ${daemonLog(daemon)})`, () => existsSync(join(dir, "c.sock")) && ctr(["version"]).code === 0, 60_000);
    buildImageArchive(join(dir, "image.tar"));
    const r = ctr(["images", "import", join(dir, "image.tar")]);
    if (r.code !== 0) throw new Error(`ctr images import: ${r.stderr.trim()}`);
  } catch (e) {
    await tearDown();
    throw e;
  }
  return {
    title: "ctr run --rm busybox /bin/true",
    notes: ["containerd 1.6 with the runc v2 shim (--runc-binary), native snapshotter, no network namespace given"],
    env,
    runArgv: (rt, t) => ["ctr", "--address", join(dir, "c.sock"), "-n", ns, "run", "--rm", "--runc-binary", t ? timed[rt.name]! : rt.path, "--runc-root", join(dir, `runc-${rt.name}`), IMAGE_TAG, ctx.nextId("ctr"), "/bin/true"],
    tearDown,
  };
}

/** (9) One engine: wall per `run --rm` with each runtime, then the runtime's share of it. */
export async function engineCases(ctx: Ctx, which: string, runcBin: string): Promise<CaseResult[]> {
  const rts: RuntimeUnderTest[] = [
    { name: "bunrunc", path: ctx.runtimes[0]!.bin },
    { name: "runc", path: runcBin },
  ];
  const timed = timers(ctx.work, rts);
  const engine =
    which === "docker" ? await dockerEngine(ctx, rts, timed, "none") : which === "docker-host" ? await dockerEngine(ctx, rts, timed, "host") : which === "podman" ? await podmanEngine(timed) : await ctrEngine(ctx, timed);
  const wall: Record<string, number[]> = { bunrunc: [], runc: [] };
  const share: Record<string, number[]> = { bunrunc: [], runc: [] };
  const calls: Record<string, Map<string, number>> = { bunrunc: new Map(), runc: new Map() };
  const shareRuns = Math.max(3, Math.ceil(ctx.runs / 3));
  const core = ctx.runtimes[0]!.core!;
  let meter: ServerMeter | undefined;
  let served = "";
  const once = (rt: RuntimeUnderTest, t: boolean) => ctx.launcher.measure(engine.runArgv(rt, t), undefined, engine.env).ms;
  try {
    // The server serves only callers whose whole context is its own (README "The server's trust
    // model"), and the engine's shim differs from this bench (Go raises its open-files limit, for
    // one): the engine's first bunrunc call starts the server it uses, as on a host where the
    // engine is bunrunc's only user.
    stopServersOf(core);
    for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
      if (i === ctx.warmup) meter = serversOf(core).length === 1 ? new ServerMeter(core) : undefined;
      if (i === ctx.warmup) meter?.start();
      for (const rt of rotated(rts, i)) {
        const ms = once(rt, false);
        if (i >= ctx.warmup) wall[rt.name]!.push(ms);
      }
    }
    const server = meter?.stop();
    served = server
      ? `the resident server the engine's first call started: ${(server.ms / ctx.runs).toFixed(2)} ms of CPU per container${server.precise ? "" : " (ticks)"} (a served call costs it ~1-3 ms; calls it did not serve cost it nothing)`
      : "no resident server ran after the warm-up: every bunrunc call ran directly";
    for (let i = 0; i < shareRuns; i++) {
      for (const rt of rotated(rts, i)) {
        takeLog(timed[rt.name]!);
        once(rt, true);
        const logged = takeLog(timed[rt.name]!);
        if (process.env.BENCH_ENGINE_CALLS) console.error(`${rt.name}: ${logged.map((c) => `${c.verb} ${(c.us / 1000).toFixed(1)}`).join(", ")}`);
        share[rt.name]!.push(logged.reduce((a, c) => a + c.us, 0) / 1000);
        for (const c of logged) calls[rt.name]!.set(c.verb, (calls[rt.name]!.get(c.verb) ?? 0) + 1);
      }
    }
  } finally {
    await engine.tearDown();
  }
  const perRun = (name: string) => [...calls[name]!].map(([verb, n]) => `${verb}${n / shareRuns > 1 ? ` ×${+(n / shareRuns).toFixed(1)}` : ""}`).join(", ");
  const sum = (r: Record<string, number[]>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, summarize(v)]));
  const med = (r: Record<string, number[]>, k: string) => summarize(r[k]!).median;
  return [
    {
      id: which,
      title: `(9) ${engine.title}`,
      unit: "ms",
      results: sum(wall),
      notes: [
        ...engine.notes,
        served,
        `the runtime's share (next row) of the median run: bunrunc ${((100 * med(share, "bunrunc")) / med(wall, "bunrunc")).toFixed(0)}%, runc ${((100 * med(share, "runc")) / med(wall, "runc")).toFixed(0)}%`,
      ],
      target: engine.target === undefined ? undefined : { vsRunc: engine.target },
    },
    {
      id: `${which}-share`,
      title: `(9) ${engine.title}: the runtime's calls`,
      unit: "ms",
      results: sum(share),
      notes: [
        `wall time of every runtime call the engine made, summed per container (bench/runtime-timer.zig in the runtime's place; ${shareRuns} runs each): bunrunc ${perRun("bunrunc")}; runc ${perRun("runc")}`,
      ],
    },
  ];
}
