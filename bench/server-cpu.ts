// The resident server's CPU time, so a served call is charged for the work done on its behalf.
// The server is the process whose /proc/PID/exe is this checkout's bunrunc-core and whose
// environment has BUNRUNC_SERVE= (one per build; README "How a call runs"). A meter reads its
// threads' /proc/PID/task/TID/schedstat (nanoseconds) before and after a stretch of calls; if a
// thread left in between (its time would be lost), the process's own utime+stime from
// /proc/PID/stat is used instead (clock ticks: ±20 ms over the stretch) and the figure is marked.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { Runtime } from "./runtimes.ts";

const TICK_MS = (() => {
  const r = Bun.spawnSync({ cmd: ["getconf", "CLK_TCK"], stdio: ["ignore", "pipe", "ignore"] });
  const hz = Number(r.stdout.toString().trim());
  return hz > 0 ? 1000 / hz : 10;
})();

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Pids of running servers of `core` (the real path of a bunrunc-core binary). */
export function serversOf(core: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${name}/exe`);
    } catch {
      continue;
    }
    if (exe !== core) continue;
    const env = readOr(`/proc/${name}/environ`);
    if (env?.split("\0").some((kv) => kv.startsWith("BUNRUNC_SERVE="))) pids.push(Number(name));
  }
  return pids;
}

interface Snapshot {
  /** Nanoseconds run per thread id. */
  threads: Map<string, number>;
  /** utime+stime+cutime+cstime of the process, in ms (tick resolution). */
  ticksMs: number;
  /** cutime+cstime alone: children the server reaped, in ms. */
  childrenMs: number;
  starttime: string;
}

function snapshot(pid: number): Snapshot {
  const stat = readOr(`/proc/${pid}/stat`);
  if (!stat) throw new Error(`bench: the resident server ${pid} left in the middle of a measurement`);
  // Fields after "comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17, starttime 22.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => Number(f[n - 3]);
  const threads = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const s = readOr(`/proc/${pid}/task/${tid}/schedstat`);
    if (s) threads.set(tid, Number(s.split(" ")[0]));
  }
  return {
    threads,
    ticksMs: (field(14) + field(15) + field(16) + field(17)) * TICK_MS,
    childrenMs: (field(16) + field(17)) * TICK_MS,
    starttime: f[22 - 3]!,
  };
}

export interface ServerCpu {
  ms: number;
  /** false: a server thread left during the stretch, so ms is from clock ticks (±20 ms). */
  precise: boolean;
}

export class ServerMeter {
  private pid = 0;
  private begin: Snapshot | undefined;

  constructor(private readonly core: string) {}

  /** Finds the (warm) server and reads its CPU; throws if none runs, since then nothing was served. */
  start(): void {
    const pids = serversOf(this.core);
    if (pids.length === 0) throw new Error(`bench: no resident server of ${this.core} runs after the warm-up calls: bunrunc's calls are not being served`);
    if (pids.length > 1) throw new Error(`bench: ${pids.length} resident servers of ${this.core} (pids ${pids.join(", ")}); expected one per build`);
    this.pid = pids[0]!;
    this.begin = snapshot(this.pid);
  }

  stop(): ServerCpu {
    const a = this.begin;
    if (!a) throw new Error("bench: ServerMeter.stop without start");
    const b = snapshot(this.pid);
    this.begin = undefined;
    if (b.starttime !== a.starttime) throw new Error(`bench: the resident server ${this.pid} was replaced in the middle of a measurement`);
    const lost = [...a.threads.keys()].some((tid) => !b.threads.has(tid));
    if (lost) return { ms: b.ticksMs - a.ticksMs, precise: false };
    let ns = 0;
    for (const [tid, t] of b.threads) ns += t - (a.threads.get(tid) ?? 0);
    return { ms: ns / 1e6 + (b.childrenMs - a.childrenMs), precise: true };
  }
}

/** A meter for a runtime with a resident server, none for the others. */
export const meterFor = (rt: Runtime): ServerMeter | undefined => (rt.core ? new ServerMeter(rt.core) : undefined);

/** Stops this build's servers (SIGKILL by pid: they are this bench's own, started by its calls) and waits until they are gone. */
export function stopServersOf(core: string): void {
  const pids = serversOf(core);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  const deadline = Date.now() + 10_000;
  // Gone, or a zombie waiting for its reaper (its exe link is gone then).
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && readOr(`/proc/${pid}/stat`)?.split(") ")[1]?.[0] !== "Z";
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`bench: the resident server (pids ${pids.join(", ")}) did not exit after SIGKILL`);
    Bun.sleepSync(1);
  }
}
