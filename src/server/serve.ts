// The resident server: bunrunc-core started by a front (zig/front.zig) with BUNRUNC_SERVE=<name>.
// It runs the same calls the CLI runs (src/cli/dispatch.ts), one at a time, for fronts that
// connect to the abstract socket <name>, so a container verb costs a small static executable's
// start instead of Bun's (bench/README.md). For each call it takes on the caller's working
// directory, environment, umask and stdio; the container's processes are still cloned by the
// front (src/lib/caller.ts). Verbs it does not serve — and callers it may not act for
// (src/server/peer.ts) — get Fallback: the front execs bunrunc-core itself.
// It leaves after IDLE_MS without a call; a front starts the next one.
import { openSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import * as ffi from "../ffi.ts";
import { waitUnreaped, withCaller, type Caller, type SpawnInCaller } from "../lib/caller.ts";
import { dispatch } from "../cli/dispatch.ts";
import { parseArgv } from "../cli/parse.ts";
import { configureLog } from "../log.ts";
import { admit, contextOf } from "./peer.ts";
import { phase } from "../timing.ts";
import { decodeRequest, decodeSpawned, exitRecord, fallbackRecord, Kind, spawnRecord, waitRecord, type Request } from "./proto.ts";

const IDLE_MS = Number(process.env.BUNRUNC_SERVE_IDLE_MS) || 30_000;
/** A call's argv and environment; a larger one is sent to the direct path by the front. */
const REQUEST_MAX = 4 << 20;
const REQUEST_WAIT_MS = 5_000;
const SPAWN_REPLY_WAIT_MS = 60_000;
const STDIO = [0, 1, 2];

/** The verbs worth a server round trip; the rest (and help, version) run directly. */
const SERVED = new Set(["create", "start", "delete", "kill", "state", "run", "exec"]);

export async function serve(name: string): Promise<never> {
  let listener: number;
  try {
    listener = ffi.serverListen(name);
  } catch {
    process.exit(0); // another server holds the name
  }
  const lockFd = Number(process.env.BUNRUNC_SERVE_LOCK_FD);
  if (lockFd > 2) ffi.close(lockFd);
  delete process.env.BUNRUNC_SERVE;
  delete process.env.BUNRUNC_SERVE_LOCK_FD;
  leaveStartersCgroups();
  const own = contextOf("self").context;
  const devnull = openSync("/dev/null", "r+");
  const ownEnv = { ...process.env };
  for (;;) {
    const conn = ffi.serverAccept(listener, IDLE_MS);
    if (conn === null) break;
    try {
      await serveCall(conn, own, devnull, ownEnv);
    } catch {
      // The front sees the connection close: before any record it runs the call directly.
    } finally {
      ffi.close(conn);
    }
  }
  process.exit(0);
}

async function serveCall(conn: number, own: string, devnull: number, ownEnv: NodeJS.ProcessEnv): Promise<void> {
  // Before the caller's stderr is ours this mark's line goes to /dev/null; it starts the clock
  // that serve.caller-taken reads (receive, peer check, taking on the caller).
  phase("serve.accepted");
  const msg = ffi.msgRecv(conn, REQUEST_WAIT_MS, REQUEST_MAX);
  if (!msg) return;
  try {
    const req = decodeRequest(msg.bytes);
    const { pid } = ffi.peerCred(conn);
    const umask = req && msg.fds.length === STDIO.length ? admit(pid, own) : null;
    if (!req || umask === null) return ffi.msgSend(conn, fallbackRecord());
    const argv = req.argv.slice(1);
    const restore = takeOnCaller(pid, umask, req, msg.fds, devnull, ownEnv);
    phase("serve.caller-taken");
    const front = frontCaller(conn, pid, req);
    // undefined: not served (decided in the caller's cwd, so after taking it on).
    let code: number | undefined;
    try {
      if (req.kind === Kind.cont || served(argv)) {
        code = await withCaller(front, () => dispatch(argv, basename(req.argv[0]!)));
        phase("serve.dispatched");
      }
    } finally {
      restore();
    }
    if (code === undefined) ffi.msgSend(conn, fallbackRecord());
    else if (!front.waiting) ffi.msgSend(conn, exitRecord(code));
  } finally {
    for (const fd of msg.fds) ffi.close(fd);
  }
}

/** The caller's cwd, environment, umask and stdio for the call; returns what puts ours back. */
function takeOnCaller(pid: number, callerUmask: number, req: Request, stdio: number[], devnull: number, ownEnv: NodeJS.ProcessEnv): () => void {
  process.chdir(`/proc/${pid}/cwd`);
  const umask = process.umask(callerUmask);
  replaceEnv(req.env);
  STDIO.forEach((fd, i) => ffi.dup2(stdio[i]!, fd));
  return () => {
    // stdio first: a caller reading our stdout to EOF must not wait on the server's copy.
    for (const fd of STDIO) ffi.dup2(devnull, fd);
    configureLog({ file: "", format: "text", debug: false });
    replaceEnv(ownEnv);
    process.umask(umask);
    process.chdir("/");
  };
}

function replaceEnv(env: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);
}

/**
 * Whether the server runs this call. Direct instead: a terminal the runtime would relay itself,
 * and a container with hooks — calls are served one at a time, and a hook may run for seconds
 * (the direct path runs it without holding up anyone else's calls).
 */
function served(argv: string[]): boolean {
  let inv;
  try {
    inv = parseArgv(argv);
  } catch {
    return false; // the direct path reports it
  }
  if (inv.kind !== "verb" || !SERVED.has(inv.verb)) return false;
  const { flags, global, args } = inv;
  if (inv.verb === "run" || inv.verb === "create") {
    const config = readJson(join(resolve((flags.bundle as string) || "."), "config.json")) as { process?: { terminal?: unknown }; hooks?: unknown } | null;
    if (!config || hasHooks(config.hooks)) return false;
    return inv.verb === "create" || Boolean(flags.detach) || Boolean(flags["console-socket"]) || config.process?.terminal !== true;
  }
  if (inv.verb === "start" || inv.verb === "delete") {
    const state = readJson(join(global.root, args[0] ?? "", "state.json")) as { bunrunc?: { hooks?: unknown } } | null;
    return !hasHooks(state?.bunrunc?.hooks);
  }
  if (inv.verb === "exec" && !flags.detach) {
    if (flags.tty) return false;
    if (flags.process) {
      const proc = readJson(resolve(flags.process as string)) as { terminal?: unknown } | null;
      return proc !== null && proc.terminal !== true;
    }
  }
  return true;
}

/** null when it cannot be read or parsed (the direct path reports it, or finds no container). */
function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

function hasHooks(hooks: unknown): boolean {
  if (!hooks || typeof hooks !== "object") return false;
  return Object.values(hooks).some((list) => Array.isArray(list) && list.length > 0);
}

interface FrontCaller extends Caller {
  /** A Wait was sent: the front answers the call itself (or calls again). */
  waiting: boolean;
}

function frontCaller(conn: number, pid: number, req: Request): FrontCaller {
  const front: FrontCaller = {
    pid,
    servedBy: `served by the resident server, pid ${process.pid}`,
    waiting: false,
    spawn: (r) => spawnInFront(conn, r),
    waitExited: waitUnreaped,
    waitInCaller(target, thenCallBack) {
      ffi.msgSend(conn, waitRecord(target, thenCallBack));
      front.waiting = true;
    },
  };
  if (req.kind === Kind.cont) front.resumedWith = req.status;
  return front;
}

function spawnInFront(conn: number, r: SpawnInCaller): ffi.Spawned {
  const extra = r.extraFds ?? [];
  const join = r.cgroupJoinFds ?? [];
  const fds = [...extra, ...join, ...(r.cgroupFd === undefined ? [] : [r.cgroupFd])];
  ffi.msgSend(
    conn,
    spawnRecord({
      plan: r.plan,
      cloneFlags: r.cloneFlags,
      keepBelow: r.keepFdsBelow ?? 3,
      waitForParent: Boolean(r.waitForParent),
      nExtra: extra.length,
      nJoin: join.length,
      hasCgroupFd: r.cgroupFd !== undefined,
      subreaper: Boolean(r.subreaper),
      holdSignals: Boolean(r.holdSignals),
    }),
    fds,
  );
  const reply = ffi.msgRecv(conn, SPAWN_REPLY_WAIT_MS, 64);
  const spawned = reply && decodeSpawned(reply.bytes);
  if (!reply || !spawned) {
    reply?.fds.forEach((fd) => ffi.close(fd));
    throw new Error("spawn: the calling bunrunc process did not answer");
  }
  if (spawned.rc < 0) {
    reply.fds.forEach((fd) => ffi.close(fd));
    throw ffi.spawnError(-spawned.rc, spawned.step);
  }
  if (reply.fds.length !== 2) throw new Error("spawn: the calling bunrunc process sent no pidfd and sync socket");
  return { pid: spawned.pid, pidfd: reply.fds[0]!, syncFd: reply.fds[1]! };
}

/**
 * The server outlives the call that started it: it moves to the root of every cgroup hierarchy,
 * so an engine removing the starter's cgroup (conmon's, a shim's) is not blocked by it.
 */
function leaveStartersCgroups(): void {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0 || (f[sep + 1] !== "cgroup" && f[sep + 1] !== "cgroup2") || f[3] !== "/") continue;
    try {
      writeFileSync(join(f[4]!, "cgroup.procs"), String(process.pid));
    } catch {}
  }
}
