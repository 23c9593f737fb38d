// The resident server: bunrunc-core started by a front (zig/server_link.zig) with
// BUNRUNC_SERVE=<socket path>. It runs the same calls the CLI runs (src/cli/dispatch.ts) for fronts
// that connect to that socket, so a container verb costs a small static executable's start
// instead of Bun's (bench/README.md). For each call it takes on the caller's working directory,
// environment, umask and stdio; the container's processes are still cloned by the front
// (src/server/front-spawner.ts). Who it serves and which calls: src/server/admission.ts.
//
// Calls run one at a time (they share this process's cwd, environment and stdio), but nothing a
// caller does holds up the others: a call whose hook runs is parked while the hook's process runs
// (its cwd, environment, umask, stdio and log put aside, other calls served meanwhile) and resumed
// once it exits or its timeout passes; connections are read and admitted as they become ready (a
// silent one is dropped after READ_REQUEST_MS_MAX, and waiting for it blocks nobody), a front
// that hears nothing (Queued, Begin) within its own bound runs its call directly (zig/front.zig
// admit_ms_max) — so one stuck call holds up the queue behind it by that bound at most, a
// container lock another process holds sends the call back to the front before it did anything,
// and a foreground run's wait happens in the front. It leaves after IDLE_MS without a call.
import { constants, fstatSync, lstatSync, openSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname } from "node:path";
import * as ffi from "../ffi.ts";
import * as transport from "../ffi-server.ts";
import { isHandback, type Handback } from "../lib/spawner.ts";
import { frontSpawner } from "./front-spawner.ts";
import { dispatch, finishHandback } from "../cli/dispatch.ts";
import { attachLog, configureLog, detachLog, requireRegularLogFiles } from "../log.ts";
import { setHookPark } from "../lib/hooks.ts";
import { LockBusy, setLockWaitMsMax } from "../state/store.ts";
import { requireRegularDocuments } from "../config/limits.ts";
import { admitCaller, contextOf, provesAccess, served, stillAdmitted, stillAlive, unrestricted, type Admitted } from "./admission.ts";
import { joinOwnCgroups, leaveOwnCgroups } from "./own-cgroup.ts";
import { begun, refuse, sendOrIgnore, STDIO } from "./go.ts";
import { GivenUpHooks } from "./given-up-hooks.ts";
import { dropLog, finish, replaceEnv, type Call } from "./call.ts";
import { PARKED_MAX, runsDirectly, WAITING_MAX } from "./before-begin.ts";
import { phase } from "../base/timing.ts";
import { beginRecord, queuedRecord, decodeAnswer, decodeRequest, exitRecord, fallbackRecord, Op, waitRecord, type Request } from "./proto.ts";


const IDLE_MS = Number(process.env.BUNRUNC_SERVE_IDLE_MS) || 30_000;
/** A call's argv and environment; a larger one is sent to the direct path by the front. */
const REQUEST_MAX = 4 << 20;
/** A connection that has sent no request by then is closed (a front sends it right after connecting). */
const READ_REQUEST_MS_MAX = 2_000;
/** Connections not yet read, at most; past it the oldest are closed. */
const PENDING_MAX = 256;

type Outcome = { ok: true; result: number | Handback } | { ok: false; error: unknown };

/** A call parked while its hook's process runs: resumed when `pidfd` is readable (it exited) or at `deadline` (its timeout). */
interface Parked {
  call: Call;
  work: Promise<Outcome>;
  resuming: boolean;
  pidfd: number;
  deadline: number;
  resume: () => void;
}

/** Past the time hooks.ts gives a hook up its call resumes this much later (its own timer has fired by then). */
const PARK_GRACE_MS = 50;

export async function serve(path: string): Promise<never> {
  // The start lock (zig/server_link.zig) is held for the server's whole life; none of the
  // processes it may start inherits it.
  const lockFd = Number(process.env.BUNRUNC_SERVE_LOCK_FD);
  if (!(lockFd > 2) || !privateDir(dirname(path)) || !unrestricted()) process.exit(1);
  transport.setCloexec(lockFd);
  // Bun's start raised the open-files soft limit to the hard one: back to the starter's, so its
  // context (limits included, admission.ts) is the one it was started in.
  const nofile = process.env.BUNRUNC_SERVE_NOFILE;
  if (nofile && /^\d+$/.test(nofile)) transport.setNofileSoft(BigInt(nofile));
  const listener = transport.serverListen(path);
  const socketIno = statSync(path).ino;
  delete process.env.BUNRUNC_SERVE;
  delete process.env.BUNRUNC_SERVE_LOCK_FD;
  delete process.env.BUNRUNC_SERVE_NOFILE;
  // Locks other bunrunc processes hold send the call back to its front rather than wait here.
  setLockWaitMsMax(0);
  requireRegularLogFiles();
  requireRegularDocuments();
  joinOwnCgroups();
  const own = contextOf("self").context;
  const devnull = openSync("/dev/null", "r+");
  const ownEnv = { ...process.env };
  const ownUmask = process.umask(0o022);
  process.umask(ownUmask);
  const server = new Server(listener, own, devnull, ownEnv, ownUmask);
  await server.run();
  try {
    if (lstatSync(path).ino === socketIno) unlinkSync(path);
    // The lock file goes too, while we still hold it (a front that opened it meanwhile locks a
    // file nobody else will: at worst two servers, the older one never reached again).
    if (lstatSync(`${path}.lock`).ino === fstatSync(lockFd).ino) unlinkSync(`${path}.lock`);
  } catch {}
  leaveOwnCgroups();
  process.exit(0);
}

/** The socket's directory: ours, a directory, mode 0000 (zig/server_link.zig). */
function privateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.geteuid!() && (st.mode & 0o777) === 0;
  } catch {
    return false;
  }
}

class Server {
  /** Accepted, no request read yet. */
  private pending: { conn: number; since: number }[] = [];
  /** Admitted, to be run in order. */
  private queue: Call[] = [];
  /** A foreground run whose front waits for the process and will send its status. */
  private waiting: Call[] = [];
  /** Calls parked at a hook, and those whose hook ended (resumed before new calls begin). */
  private parked: Parked[] = [];
  private resumable: Parked[] = [];
  /** Hooks given up past their timeout, still to be reaped. */
  private givenUp = new GivenUpHooks();
  /** The call running now, and how it parks. */
  private current: { park: (p: Omit<Parked, "call" | "work" | "resuming">) => void } | undefined;
  private lastActive = Date.now();

  constructor(
    private readonly listener: number,
    private readonly own: string,
    private readonly devnull: number,
    private readonly ownEnv: NodeJS.ProcessEnv,
    /** What the server runs with between calls (each call gets its caller's). */
    private readonly ownUmask: number,
  ) {
    setHookPark((pid, giveUpAt) => this.parkAtHook(pid, giveUpAt));
  }

  /** hooks.ts asks: the running call parks until the hook's process `pid` exits (or hooks.ts gives it up, `giveUpAt`). */
  private parkAtHook(pid: number, giveUpAt: number): Promise<void> {
    const current = this.current;
    if (!current) return Promise.resolve();
    // Checked before Begin (before-begin.ts); a call whose config gained a hook since has its hook killed here.
    if (this.parked.length + this.resumable.length >= PARKED_MAX) return Promise.reject(new Error(`the resident server already holds ${PARKED_MAX} calls parked at hooks`));
    let pidfd: number;
    try {
      pidfd = ffi.pidfdOpen(pid);
    } catch {
      return Promise.resolve(); // already reaped: nothing to wait for
    }
    // Resumed no earlier than hooks.ts gives the hook up: the call then never waits on it in drive().
    const deadline = giveUpAt + PARK_GRACE_MS;
    return new Promise((resume) => current.park({ pidfd, deadline, resume }));
  }

  async run(): Promise<void> {
    for (;;) {
      this.dropSilent(Date.now());
      const idle = !this.pending.length && !this.queue.length && !this.waiting.length && !this.parked.length && !this.resumable.length && !this.givenUp.fds.length;
      const sinceActive = Date.now() - this.lastActive;
      if (idle && sinceActive >= IDLE_MS) return;
      const fds = [this.listener, ...this.pending.map((p) => p.conn), ...this.waiting.map((w) => w.conn), ...this.parked.map((p) => p.pidfd), ...this.givenUp.fds];
      const ready = transport.pollMany(fds, this.queue.length || this.resumable.length ? 0 : this.pollTimeout(sinceActive));
      const pending = this.pending;
      const waiting = this.waiting;
      const parked = this.parked;
      const now = Date.now();
      const hookEnded = (i: number) => ready[1 + pending.length + waiting.length + i] || now >= parked[i]!.deadline;
      this.pending = pending.filter((_, i) => !ready[1 + i]);
      this.waiting = waiting.filter((_, i) => !ready[1 + pending.length + i]);
      this.parked = parked.filter((_, i) => !hookEnded(i));
      this.resumable.push(...parked.filter((_, i) => hookEnded(i)));
      await this.givenUp.reap(ready.slice(1 + pending.length + waiting.length + parked.length));
      if (ready[0]) this.acceptAll();
      pending.forEach((p, i) => ready[1 + i] && this.readRequest(p.conn));
      waiting.forEach((w, i) => ready[1 + pending.length + i] && this.readStatus(w));
      // A call whose hook ended goes on first: it holds its container's lock and its init waits.
      const resumed = this.resumable.shift();
      const call = resumed ? undefined : this.queue.shift();
      // The queue moves: every front still waiting hears so (and keeps waiting, zig/front.zig).
      if (call) for (const queued of this.queue) if (queued.finish === undefined) sendOrIgnore(queued.conn, queuedRecord());
      if (resumed) await this.safely(resumed.call, () => this.resume(resumed));
      else if (call) await this.safely(call, () => this.runCall(call));
      if (resumed || call) this.lastActive = Date.now();
    }
  }

  /**
   * Runs one step of a call; whatever it throws (a caller's cwd or stdio gone bad, a dup2 failing)
   * ends that call alone, exit 1 to its front, with the server's own context put back.
   */
  private async safely(call: Call, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch {
      this.current = undefined;
      this.ownContext();
      if (call.log?.fd !== undefined) ffi.close(call.log.fd);
      call.log = undefined;
      sendOrIgnore(call.conn, exitRecord(1));
      finish(call);
    }
  }

  /** The server's own stdio (/dev/null), log, environment, umask and cwd. */
  private ownContext(): void {
    for (const fd of STDIO) ffi.dup2(this.devnull, fd);
    configureLog({ file: "", format: "text", debug: false });
    replaceEnv(this.ownEnv);
    process.umask(this.ownUmask);
    process.chdir("/");
  }

  private pollTimeout(sinceActive: number): number {
    const hooks = Math.min(2 ** 31 - 1, ...this.parked.map((p) => p.deadline - Date.now()));
    if (this.pending.length) return Math.max(0, Math.min(hooks, READ_REQUEST_MS_MAX - (Date.now() - this.pending[0]!.since)));
    if (this.parked.length) return Math.max(0, hooks);
    // Only given-up hooks left: the server stays (their parent) and waits for their exits or a call.
    if (this.givenUp.fds.length && sinceActive >= IDLE_MS) return -1;
    return Math.max(0, IDLE_MS - sinceActive);
  }

  private dropSilent(now: number): void {
    while (this.pending.length && (this.pending.length > PENDING_MAX || now - this.pending[0]!.since >= READ_REQUEST_MS_MAX)) {
      ffi.close(this.pending.shift()!.conn);
    }
  }

  private acceptAll(): void {
    for (;;) {
      let conn: number | null;
      try {
        conn = transport.serverAccept(this.listener, 0);
      } catch {
        return;
      }
      if (conn === null) return;
      this.pending.push({ conn, since: Date.now() });
    }
  }

  /** The request of a connection that became readable: queued if admitted, else Fallback. */
  private readRequest(conn: number): void {
    phase("serve.accepted");
    let msg: { bytes: Uint8Array; fds: number[] } | null = null;
    try {
      msg = transport.msgRecv(conn, 0, REQUEST_MAX);
    } catch {}
    msg?.fds.forEach((fd) => ffi.close(fd)); // a request carries none: stdio comes with Go
    const req = msg && decodeRequest(msg.bytes);
    const who = req && !msg!.fds.length ? admitCaller(conn, this.own) : null;
    if (!req || !who || !served(req.argv.slice(1), `/proc/${who.pid}/cwd`) || !stillAlive(who.pidfd)) {
      if (who) ffi.close(who.pidfd);
      return refuse(conn);
    }
    this.queue.push({ conn, req, stdio: [], who });
  }

  /** A waiting front's Status (its process exited): the run's second half is queued. */
  private readStatus(call: Call): void {
    let answer = null;
    try {
      const msg = transport.msgRecv(call.conn, 0, 64);
      msg?.fds.forEach((fd) => ffi.close(fd));
      answer = msg && decodeAnswer(msg.bytes);
    } catch {}
    if (!answer || answer.op !== Op.status) return finish(call);
    this.queue.push({ ...call, status: answer.code });
  }

  private async runCall(call: Call): Promise<void> {
    const resuming = call.finish !== undefined && call.status !== undefined;
    if (!resuming) {
      const held = { parkedFull: this.parked.length + this.resumable.length >= PARKED_MAX, waitingFull: this.waiting.length >= WAITING_MAX };
      if (runsDirectly(call.req.argv.slice(1), `/proc/${call.who.pid}/cwd`, call.req.env, held)) {
        sendOrIgnore(call.conn, fallbackRecord());
        return finish(call);
      }
      const stdio = begun(call.conn);
      if (!stdio) return finish(call);
      call.stdio = stdio;
      // What the caller was at admission it must still be now that it commits.
      if (!stillAdmitted(call.who, this.own)) {
        sendOrIgnore(call.conn, fallbackRecord());
        return finish(call);
      }
    }
    const restore = this.takeOnCaller(call);
    if (!restore) return finish(call);
    phase("serve.caller-taken");
    const argv = call.req.argv.slice(1);
    const work = (resuming ? finishHandback(argv, call.finish!, call.status!, call.logAttached) : dispatch(argv, basename(call.req.argv[0]!), frontSpawner(call.conn, call.who))).then(
      (result): Outcome => ({ ok: true, result }),
      (error): Outcome => ({ ok: false, error }),
    );
    await this.drive(call, work, resuming, restore);
  }

  /** A parked call whose hook ended: back in its caller's context, on from where it parked. */
  private async resume(p: Parked): Promise<void> {
    // A hook still running at its deadline is given up by hooks.ts; the server reaps it later.
    if (stillAlive(p.pidfd)) this.givenUp.add(p.pidfd);
    else ffi.close(p.pidfd);
    // Its caller gone, the call still finishes (it holds a lock, an init waits), in the server's own context.
    const restore = this.takeOnCaller(p.call) ?? (() => {});
    p.resume();
    await this.drive(p.call, p.work, p.resuming, restore);
  }

  /** Runs the call until it ends (its answer sent) or parks at a hook (then it waits in `parked`). */
  private async drive(call: Call, work: Promise<Outcome>, resuming: boolean, restore: () => void): Promise<void> {
    const parking = Promise.withResolvers<Omit<Parked, "call" | "work" | "resuming">>();
    this.current = { park: parking.resolve };
    const next = await Promise.race([work, parking.promise]);
    this.current = undefined;
    if (!("ok" in next)) {
      call.env = { ...process.env };
      call.log = detachLog();
      restore();
      this.parked.push({ ...next, call, work, resuming });
      return;
    }
    phase("serve.dispatched");
    // A run's finish (its delete, once the front sends the status) logs to the same open file.
    const log = detachLog();
    restore();
    if (!next.ok) {
      // A lock another process holds comes here before the call did anything: the front runs it.
      // Anything else (its stderr gone: EPIPE) ends the call as the direct path would, exit 1.
      sendOrIgnore(call.conn, next.error instanceof LockBusy && !resuming ? fallbackRecord() : exitRecord(1));
      return finish(call);
    }
    const result = next.result;
    if (!isHandback(result)) {
      sendOrIgnore(call.conn, exitRecord(result));
      return finish(call);
    }
    // The front waits for the process (forwarding signals); with a `finish` it sends the status back here.
    try {
      transport.msgSend(call.conn, waitRecord(result.waitFor, result.finish !== undefined));
    } catch {
      return finish(call);
    }
    if (result.finish) this.waiting.push({ ...call, finish: result.finish, env: undefined, log });
    else finish(call);
  }

  /** The caller's cwd, environment, umask and stdio for the call; returns what puts ours back (null: the caller is gone). */
  private takeOnCaller(call: Call): (() => void) | null {
    const { who, req, stdio } = call;
    try {
      call.cwd ??= openSync(`/proc/${who.pid}/cwd`, constants.O_RDONLY | constants.O_DIRECTORY);
      process.chdir(`/proc/self/fd/${call.cwd}`);
    } catch {
      dropLog(call);
      return null;
    }
    if (!stillAlive(who.pidfd)) {
      process.chdir("/");
      dropLog(call);
      return null;
    }
    const umask = process.umask(who.umask);
    replaceEnv(call.env ?? req.env);
    STDIO.forEach((fd, i) => ffi.dup2(stdio[i]!, fd));
    call.logAttached = call.log !== undefined;
    if (call.log) attachLog(call.log);
    call.log = undefined;
    return () => {
      // stdio first: a caller reading our stdout to EOF must not wait on the server's copy.
      for (const fd of STDIO) ffi.dup2(this.devnull, fd);
      configureLog({ file: "", format: "text", debug: false });
      replaceEnv(this.ownEnv);
      process.umask(umask);
      process.chdir("/");
    };
  }
}
