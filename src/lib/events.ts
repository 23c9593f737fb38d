// `events`: the container's statistics in runc's shape, once (--stats) or every interval, and an
// `oom` event whenever the kernel's OOM killer acts in its cgroup. Each event is one JSON line
// {type, id, data}; the stream ends when the container stops.
import { watchOom } from "../cgroups/oom.ts";
import { encodeJson, statsData } from "../cgroups/stats.ts";
import { loadCgroup } from "./cgroup.ts";
import { readState, refresh, type ContainerState } from "./container.ts";
import { BunruncError } from "./errors.ts";

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
      // Status first, then OOM: an OOM kill that stops the container is still reported.
      const stopped = refresh(opts.root, saved).status === "stopped";
      for (let n = oom.poll(); n > 0; n--) yield { type: "oom", id: opts.id };
      if (stopped) return;
      if (performance.now() >= nextStats) {
        yield statsEvent(saved);
        nextStats += intervalMs;
      }
      await Bun.sleep(Math.max(1, Math.min(OOM_POLL_MS, nextStats - performance.now())));
    }
  } finally {
    oom.close();
  }
}
