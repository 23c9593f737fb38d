// Attacks on the resident server, each the way issue 12 found it open: an impostor where a front
// looks for its server, an unprivileged or restricted process acting through root's server, a
// pid reused under the server's checks, records that skip the server's decisions, and callers
// stalling everyone else. Real processes, real sockets, a real second container.
import { afterAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRun, CORE, FAKE_FRONT, front, FRONT as FRONT_BIN, peerPidfds, SERVED, serverPids, serverUp, SKIP, socketPath, stopServers, waitFor } from "./helpers.ts";
import { bundle, cleanupBundles } from "./helpers.ts";

// Generous: the kernel-without-SO_PEERPIDFD test runs in the VM tier, where each direct call is a slow emulated Bun start.
setDefaultTimeout(120_000);

const started: { kill(sig?: number): void; exited: Promise<number> }[] = [];
afterAll(async () => {
  for (const p of started.splice(0)) {
    p.kill(9);
    await p.exited;
  }
  cleanupBundles();
});

const FAKE_FRONT_TEXT = readFileSync(FAKE_FRONT, "utf8");

function fake(args: string[], opts: { user?: string; group?: string } = {}): { code: number; out: string } {
  // As another user: the system's python (root's PATH may lead into root's home) and the script's
  // text (the checkout may be in a directory only root can enter).
  const argv = opts.user ? ["setpriv", `--reuid=${opts.user}`, `--regid=${opts.group ?? opts.user}`, "--clear-groups", "/usr/bin/python3", "-c", FAKE_FRONT_TEXT, ...args] : ["python3", FAKE_FRONT, ...args];
  const r = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString().trim() + r.stderr.toString().trim() };
}

function spawnKept(argv: string[], opts: Parameters<typeof Bun.spawn>[1] = {}) {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore", ...opts });
  started.push(p);
  return p;
}

/**
 * This build's core started as a server at its real socket path by `wrapper` (other namespaces,
 * fewer capabilities), holding the start lock as a front would pass it; returns once it listens.
 */
function serveOtherwise(wrapper: string[]) {
  const lock = openSync(`${socketPath()}.lock`, "a+", 0o600);
  const p = spawnKept([...wrapper, CORE], {
    env: { BUNRUNC_SERVE: socketPath(), BUNRUNC_SERVE_LOCK_FD: "3", PATH: process.env.PATH! },
    stdio: ["ignore", "ignore", "ignore", lock],
  });
  closeSync(lock);
  waitFor(() => serverPids().length > 0 && existsSync(socketPath()));
  Bun.sleepSync(200);
  return p;
}

/** The name the front used before this fix: an abstract socket anyone in the network namespace could bind. */
function oldAbstractName(): string {
  const st = statSync(CORE, { bigint: true });
  const hex = (v: bigint) => v.toString(16);
  return `bunrunc/1/0/${hex(st.dev)}-${hex(st.ino)}-${hex(st.size)}-${hex(st.mtimeNs)}`;
}

/** A running container of `b` (direct: the server is not what these containers test). */
function runningContainer(b: TestBundle): string {
  const id = uniqueId("atk");
  expect(front(["--root", b.root, "run", "-d", "-b", b.bundle, id], { env: { BUNRUNC_SERVER: "off" }, detaches: true }).code).toBe(0);
  return id;
}

function statusOf(root: string, id: string): string {
  const r = front(["--root", root, "state", id]);
  return r.code === 0 ? JSON.parse(r.stdout).status : "gone";
}

/** Best of `n` served `state` calls on an unrelated container root: [ms, stderr]. */
function quickestState(root: string, n = 3): { ms: number; stderr: string } {
  let best = { ms: Infinity, stderr: "" };
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = front(["--debug", "--root", root, "state", "unrelated"]);
    const ms = performance.now() - t0;
    if (ms < best.ms) best = { ms, stderr: r.stderr };
  }
  return best;
}

describe.skipIf(!canRun)(`attacks on the resident server${SKIP}`, () => {
  test("nobody but root can reach the server: its directory is root's alone, its socket 0600; a user's connect is refused by the kernel", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    const dir = statSync("/run/bunrunc-core");
    expect(dir.uid).toBe(0);
    expect(dir.mode & 0o777).toBe(0);
    expect(statSync(socketPath()).mode & 0o777).toBe(0o600);
    const r = fake(["request", socketPath(), "1", "bunrunc", "--root", b.root, "state", "x"], { user: "nobody", group: "nogroup" });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("PermissionError: [Errno 13] Permission denied");
    expect(r.out).toContain("in connect");
  });

  test("an impostor in a container that shares the host's network namespace never receives a call or stdio", () => {
    const b = bundle([]);
    const log = join(b.dir, "log");
    mkdirSync(log);
    const path = socketPath();
    const spec = defaultSpec(["python3", "/fake/fake-front.py", "impostor", "/log/impostor.log", path, oldAbstractName(), path]);
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "network");
    spec.mounts!.push(
      { destination: "/usr", type: "bind", source: "/usr", options: ["rbind", "ro"] },
      { destination: "/fake", type: "bind", source: join(FAKE_FRONT, ".."), options: ["bind", "ro"] },
      { destination: "/log", type: "bind", source: log, options: ["bind", "rw"] },
      { destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"] },
    );
    spec.process!.capabilities = undefined; // root with all it gets by default is enough
    b.writeSpec(spec);
    for (const l of ["lib", "lib64"]) if (existsSync(`/usr/${l}`)) symlinkSync(`usr/${l}`, join(b.rootfs, l));
    const id = runningContainer(b);
    try {
      waitFor(() => existsSync(join(log, "impostor.log")) && readFileSync(join(log, "impostor.log"), "utf8").includes("listening"));
      // The server's idle exit: the moment the old abstract name was free for the taking.
      stopServers();
      const calls = [];
      for (let i = 0; i < 6; i++) {
        calls.push(front(["--debug", "--root", b.root, "state", "nothing-here"]));
        Bun.sleepSync(100);
      }
      for (const c of calls) {
        expect(c.code).toBe(1);
        expect(c.stderr).toContain("container does not exist");
      }
      // The first started the real server; the later ones reached it, not the impostor.
      expect(calls.some((c) => c.stderr.includes(SERVED))).toBe(true);
      expect(readFileSync(join(log, "impostor.log"), "utf8")).toBe("listening\n");
    } finally {
      front(["--root", b.root, "delete", "-f", id], { env: { BUNRUNC_SERVER: "off" } });
    }
  });

  test("an impostor at the server's own path, not our core binary, gets a connection and nothing on it; the call runs directly", () => {
    const b = bundle(["true"]);
    const log = join(b.dir, "impostor.log");
    stopServers();
    spawnKept(["python3", FAKE_FRONT, "impostor", log, socketPath()]);
    waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes("listening"));
    const r = front(["--debug", "--root", b.root, "state", "nothing-here"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("container does not exist");
    expect(r.stderr).not.toContain(SERVED);
    // The impostor logs once its read of the closed connection returns.
    waitFor(() => readFileSync(log, "utf8").includes("connection"));
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toEqual(["listening", "connection: 0 bytes, 0 fds"]);
  });

  test("our own core binary serving from other mount and pid namespaces is not trusted", () => {
    const b = bundle(["true"]);
    stopServers();
    const p = serveOtherwise(["unshare", "--mount", "--pid", "--fork", "--kill-child"]);
    try {
      const r = front(["--debug", "--root", b.root, "state", "nothing-here"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("container does not exist");
      expect(r.stderr).not.toContain(SERVED);
    } finally {
      p.kill(9);
    }
  });

  test("a request whose sender died before admission is refused though a full-root process now holds its pid", () => {
    const b = bundle(["sleep", "100"]);
    serverUp(b.root);
    const id = runningContainer(b);
    try {
      const r = fake(["reuse", socketPath(), "bunrunc", "--root", b.root, "kill", id, "KILL"]);
      expect(r.out).toMatch(/^pid \d+ reused; fallback$/);
      Bun.sleepSync(100);
      expect(statusOf(b.root, id)).toBe("running");
    } finally {
      front(["--root", b.root, "delete", "-f", id]);
    }
  });

  test("no record skips the server's decisions: the old 'continue' request and a Status on a fresh connection are refused", () => {
    const b = bundle(["sleep", "100"]);
    serverUp(b.root);
    const id = runningContainer(b);
    try {
      // A continue once ran any argv without the served-verb decision (a delete's poststop hook in the server).
      expect(fake(["request", socketPath(), "2", "bunrunc", "--root", b.root, "kill", id, "KILL"]).out).toBe("fallback");
      expect(fake(["status-first", socketPath()]).out).toBe("fallback");
      expect(fake(["request-fds", socketPath(), "bunrunc", "--root", b.root, "kill", id, "KILL"]).out).toBe("fallback");
      // The control: a plain call is begun (and, with no Go from this fake front, never run).
      expect(fake(["request", socketPath(), "1", "bunrunc", "--root", b.root, "kill", id, "KILL"]).out).toBe("begin");
      Bun.sleepSync(100);
      expect(statusOf(b.root, id)).toBe("running");
    } finally {
      front(["--root", b.root, "delete", "-f", id]);
    }
  });

  test("silent connections from root and connects from a user hold up no one: an unrelated state is served at once", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    const silent = spawnKept(["python3", FAKE_FRONT, "silent", socketPath(), "20", "8"], { stdout: "pipe" });
    const users = spawnKept(["sh", "-c", `for i in $(seq 50); do setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c "$0" request ${socketPath()} 1 x 2>/dev/null; done`, FAKE_FRONT_TEXT]);
    Bun.sleepSync(300);
    const best = quickestState(b.root);
    expect(best.stderr).toContain(SERVED);
    // A generous bound that only catches blocking: each silent connection once held the server 5 s.
    expect(best.ms).toBeLessThan(100);
    silent.kill(9);
    users.kill(9);
  });

  test("a server stuck in a call delays a front by its admission bound at most, then the call runs directly (its stdio never held by the server); a full backlog not even that", async () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    const [pid] = serverPids();
    process.kill(pid!, "SIGSTOP");
    try {
      let t0 = performance.now();
      let r = front(["--debug", "--root", b.root, "state", "nothing-here"]);
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(r.stderr).toContain("container does not exist");
      expect(r.stderr).not.toContain(SERVED);
      // Fill the listen backlog: a connect then fails at once instead of waiting for room.
      const hold = Bun.spawn(["python3", FAKE_FRONT, "fill", socketPath(), "20"], { stdout: "pipe" });
      started.push(hold);
      const first = await hold.stdout.getReader().read();
      expect(new TextDecoder().decode(first.value)).toStartWith("full");
      // Seen in the front's own connect (not in a time, which load could stretch either way).
      const trace = join(b.dir, "connect.trace");
      r = front(["--debug", "--root", b.root, "state", "nothing-here"], { argv0: ["strace", "-f", "-e", "trace=connect", "-o", trace] });
      expect(readFileSync(trace, "utf8")).toMatch(/connect\(\d+, \{sa_family=AF_UNIX, sun_path="\/run\/bunrunc-core\/[^"]+"\}, \d+\) = -1 EAGAIN/);
      expect(r.stderr).toContain("container does not exist");
      expect(r.stderr).not.toContain(SERVED);
      hold.kill(9);
    } finally {
      process.kill(pid!, "SIGCONT");
    }
    // Back at work, the server drops what the holder left and serves again.
    serverUp(b.root);
  });

  test("a container whose create hook is slow is served and holds up no other caller: another container's run completes while the hook sleeps; a call on the hooked one waits directly", async () => {
    const other = bundle(["true"]);
    serverUp(other.root);
    const slow = bundle(["sleep", "100"]);
    const started = join(slow.dir, "hook-started");
    const release = join(slow.dir, "release");
    const done = join(slow.dir, "hook-done");
    const log = join(slow.dir, "create.log");
    const spec = JSON.parse(readFileSync(join(slow.bundle, "config.json"), "utf8"));
    // It sleeps until the test releases it (at most 60 s): what happens meanwhile is shown by order, not by a clock.
    spec.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${started}; i=0; while [ ! -e ${release} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; touch ${done}`] }] };
    writeFileSync(join(slow.bundle, "config.json"), JSON.stringify(spec));
    const slowId = uniqueId("atk-slow");
    const create = Bun.spawn([join(CORE, "../bunrunc"), "--debug", "--log", log, "--root", slow.root, "create", "-b", slow.bundle, slowId], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    let createExited = false;
    create.exited.then(() => (createExited = true));
    try {
      waitFor(() => existsSync(started), 60_000);
      // The hooked create is the server's (its first log line), parked while its hook sleeps.
      expect(readFileSync(log, "utf8").split("\n")[0]).toContain(SERVED);
      // The hooked container's kill waits for its lock — directly, handed back by the server.
      const killSlow = Bun.spawn([join(CORE, "../bunrunc"), "--debug", "--root", slow.root, "kill", slowId, "KILL"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      // Another caller's whole run, served, from start to exit code while the hook still sleeps.
      const r = front(["--debug", "--root", other.root, "run", "-b", other.bundle, uniqueId("atk-other")]);
      expect(r.code).toBe(0);
      expect(r.stderr.split("\n")[0]).toContain(SERVED);
      expect(existsSync(done)).toBe(false);
      await Bun.sleep(0);
      expect(createExited).toBe(false);
      expect(statusOf(slow.root, slowId)).toBe("creating");
      writeFileSync(release, "");
      expect(await create.exited).toBe(0);
      expect(existsSync(done)).toBe(true);
      expect(await killSlow.exited).toBe(0);
      // The server tried it, found the lock held, and handed it back: its last --debug line is the direct run's.
      const lines = (await new Response(killSlow.stderr).text()).trim().split("\n");
      expect(lines[0]).toContain(SERVED);
      expect(lines.at(-1)).toContain(`kill ${slowId} KILL"`);
    } finally {
      writeFileSync(release, "");
      create.kill(9);
      front(["--root", slow.root, "delete", "-f", slowId]);
    }
  });
});

describe.skipIf(peerPidfds || process.getuid?.() !== 0)("a kernel without SO_PEERPIDFD [runs only where the kernel lacks it]", () => {
  test("every call runs directly and no server is started", () => {
    const b = bundle(["true"]);
    for (let i = 0; i < 3; i++) {
      const r = front(["--debug", "--root", b.root, "state", "nothing-here"]);
      expect(r.stderr).toContain("container does not exist");
      expect(r.stderr).not.toContain(SERVED);
      Bun.sleepSync(100);
    }
    expect(serverPids()).toEqual([]);
  });
});


/** The pid of this build's running server (started if needed). */
function serverPid(root: string): number {
  serverUp(root);
  const pids = serverPids();
  expect(pids.length).toBe(1);
  return pids[0]!;
}

describe.skipIf(!canRun)(`attacks on the resident server: who may stand in for whom${SKIP}`, () => {
  test("a root process without capabilities cannot even put a socket in the server's directory (0000)", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    expect(statSync("/run/bunrunc-core").mode & 0o777).toBe(0);
    expect(fake(["capless-bind", join("/run/bunrunc-core", "impostor.sock")]).out).toBe("Permission denied");
    expect(existsSync(join("/run/bunrunc-core", "impostor.sock"))).toBe(false);
  });

  test("our own core binary serving with fewer capabilities is not trusted by a fully privileged front", () => {
    const b = bundle(["true"]);
    stopServers();
    const p = serveOtherwise(["setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace"]);
    try {
      const r = front(["--debug", "--root", b.root, "state", "nothing-here"]);
      expect(r.stderr).toContain("container does not exist");
      expect(r.stderr).not.toContain(SERVED);
    } finally {
      p.kill(9);
    }
  });

  test("Go must carry the sender's own proof that it may inspect the server, else the call is handed back", () => {
    const b = bundle(["true"]);
    const pid = serverPid(b.root);
    const args = ["bunrunc", "--root", b.root, "state", "nothing-here"];
    expect(fake(["go", socketPath(), "none", ...args]).out).toBe("fallback");
    expect(fake(["go", socketPath(), "devnull", ...args]).out).toBe("fallback");
    // The control: a process that may inspect the server is served.
    expect(fake(["go", socketPath(), `ns:${pid}`, ...args]).out).toContain("exit");
  });

  test("a connection admitted for a full-root process is of no use to a child without capabilities it hands it to", () => {
    const b = bundle(["true"]);
    const pid = serverPid(b.root);
    const log = join(b.dir, "nobody-log");
    writeFileSync(log, "");
    expect(fake(["handoff", socketPath(), String(pid), "bunrunc", "--log", log, "--root", b.root, "state", "nothing-here"]).out).toBe("proof refused: Permission denied");
    expect(readFileSync(log, "utf8")).toBe("");
  });

  test("a Landlock-sandboxed root process cannot prove access, so nothing its sandbox forbids is done for it", () => {
    const b = bundle(["true"]);
    const pid = serverPid(b.root);
    const forbidden = join(b.dir, "forbidden.log");
    const r = fake(["landlocked", "python3", FAKE_FRONT, "go", socketPath(), `ns:${pid}`, "bunrunc", "--log", forbidden, "--root", b.root, "state", "x"]);
    expect(r.out).toBe("proof refused: Permission denied");
    expect(existsSync(forbidden)).toBe(false);
  });

  test("seccomp: a server under a filter does not serve at all; a filtered caller is not served", () => {
    const b = bundle(["true"]);
    stopServers();
    const lock = openSync(`${socketPath()}.lock`, "a+", 0o600);
    const filteredServer = Bun.spawnSync(["python3", FAKE_FRONT, "filtered", CORE], {
      env: { BUNRUNC_SERVE: socketPath(), BUNRUNC_SERVE_LOCK_FD: "3", PATH: process.env.PATH! },
      stdio: ["ignore", "ignore", "ignore", lock] as never,
      timeout: 10_000,
    });
    closeSync(lock);
    expect(filteredServer.exitCode).toBe(1);
    serverUp(b.root);
    const r = Bun.spawnSync(["python3", FAKE_FRONT, "filtered", FRONT_BIN, "--debug", "--root", b.root, "state", "x"], { stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toContain("container does not exist");
    expect(r.stderr.toString()).not.toContain(SERVED);
  });

  test("a server started under a caller's resource limits serves no caller with other limits", () => {
    const b = bundle(["true"]);
    stopServers();
    try {
      // The first call starts the server: it inherits this caller's limits.
      Bun.spawnSync(["prlimit", "--nofile=512:512", FRONT_BIN, "--root", b.root, "state", "x"], { stdout: "ignore", stderr: "ignore" });
      waitFor(() => serverPids().length > 0);
      Bun.sleepSync(300);
      const r = front(["--debug", "--root", b.root, "state", "nothing-here"]);
      expect(r.stderr).toContain("container does not exist");
      expect(r.stderr).not.toContain(SERVED);
    } finally {
      stopServers();
    }
  });

  test("a served call whose stderr nobody reads ends with the direct path's exit code", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    const served = fake(["epipe", FRONT_BIN, "--root", b.root, "state", "nothing-here"]).out;
    const directly = Bun.spawnSync(["python3", FAKE_FRONT, "epipe", FRONT_BIN, "--root", b.root, "state", "nothing-here"], { env: { ...process.env, BUNRUNC_SERVER: "off" }, stdout: "pipe" }).stdout.toString().trim();
    expect(served).toBe(directly);
    expect(served).toBe("1");
  });
});
