// `events`: the container's statistics in runc's shape, once (--stats) or every interval, and an
// `oom` event whenever the kernel's OOM killer acts in its cgroup. Each event is one JSON line
// {type, id, data}; the stream ends when the container's cgroup is gone (`delete` removed it),
// not when its init exits: as runc, a stopped container's cgroup still has stats to report.
import { existsSync } from "node:fs";
import { watchOom } from "../cgroups/oom.ts";
import { encodeJson, statsData } from "../cgroups/stats.ts";
import { loadCgroup } from "./container-cgroup.ts";
import { readState, refresh, type ContainerState } from "./container.ts";
import { BunruncError } from "../base/errors.ts";

export interface EventsOptions {
  root: string;
  id: string;
  /** Milliseconds between stats events (runc's default 5s). */
  intervalMs?: number;
  /** One stats event, then stop. */
  stats?: boolean;
  /** Stops the stream. */
  signal?: AbortSignal;
}

export interface ContainerEvent {
  type: "stats" | "oom";
  id: string;
  data?: Record<string, unknown>;
}

const OOM_POLL_MS = 100;

/** One line per event, as runc prints them (Go's json.Encoder: a trailing newline). */
export function eventLine(e: ContainerEvent): string {
  return `${encodeJson(e)}\n`;
}

function statsEvent(s: ContainerState): ContainerEvent {
  const data = statsData(loadCgroup(s.bunrunc.cgroupVersion, s.bunrunc.cgroupPaths).stats());
  return { type: "stats", id: s.id, data };
}

/** Every directory of the container's cgroup is gone (delete removes them one by one). */
function cgroupGone(s: ContainerState): boolean {
  return Object.values(s.bunrunc.cgroupPaths).every((d) => !existsSync(d));
}

/** Any directory gone: a read that failed meanwhile was the removal, not an error. */
function cgroupGoing(s: ContainerState): boolean {
  return Object.values(s.bunrunc.cgroupPaths).some((d) => !existsSync(d));
}

export async function* events(opts: EventsOptions): AsyncGenerator<ContainerEvent> {
  const intervalMs = opts.intervalMs ?? 5000;
  if (!(intervalMs > 0)) throw new BunruncError("usage", "duration interval must be greater than 0");
  const saved = readState(opts.root, opts.id);
  if (refresh(opts.root, saved).status === "stopped") throw new BunruncError("bad-state", `container with id ${opts.id} is not running`);
  if (opts.stats) {
    yield statsEvent(saved);
    return;
  }
  const oom = watchOom(loadCgroup(saved.bunrunc.cgroupVersion, saved.bunrunc.cgroupPaths));
  try {
    let nextStats = performance.now() + intervalMs;
    while (!opts.signal?.aborted) {
      // Removal first, then OOM: an OOM kill just before the cgroup went is still reported.
      const gone = cgroupGone(saved);
      for (let n = oom.poll(); n > 0; n--) yield { type: "oom", id: opts.id };
      if (gone) return;
      if (performance.now() >= nextStats) {
        let e: ContainerEvent;
        try {
          e = statsEvent(saved);
        } catch (err) {
          if (cgroupGoing(saved)) return;
          throw err;
        }
        yield e;
        nextStats += intervalMs;
      }
      await Bun.sleep(Math.max(1, Math.min(OOM_POLL_MS, nextStats - performance.now())));
    }
  } finally {
    oom.close();
  }
}
