// OOM notifications. v1: an eventfd registered on memory.oom_control through
// cgroup.event_control (the kernel also signals it when the cgroup goes away, so every wakeup
// checks that the cgroup is still there). v2: the oom/oom_kill counters of memory.events.
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { close as closeFd, eventfd } from "../ffi.ts";
import { readKeyValues, writeControl } from "./files.ts";
import type { CgroupManager } from "./manager.ts";

export interface OomWatcher {
  /** New OOM events since the last call (never blocks). */
  poll(): number;
  /** The cgroup is gone: no more events will come. */
  readonly closed: boolean;
  close(): void;
}

export function watchOom(mgr: CgroupManager): OomWatcher {
  return mgr.version === 2 ? watchV2(mgr.dir) : watchV1(mgr.paths.memory);
}

function watchV2(dir: string): OomWatcher {
  const count = () => {
    const ev = readKeyValues(dir, "memory.events");
    const a = ev.get("oom") ?? 0n;
    const b = ev.get("oom_kill") ?? 0n;
    return a > b ? a : b;
  };
  let last = count();
  const w = {
    closed: false,
    poll() {
      if (!existsSync(join(dir, "memory.events"))) {
        w.closed = true;
        return 0;
      }
      const now = count();
      const n = Number(now - last);
      last = now;
      return Math.max(n, 0);
    },
    close() {},
  };
  return w;
}

function watchV1(dir: string | undefined): OomWatcher {
  if (!dir || !existsSync(join(dir, "memory.oom_control"))) return { closed: true, poll: () => 0, close() {} };
  const efd = eventfd();
  let ofd: number;
  try {
    ofd = openSync(join(dir, "memory.oom_control"), "r");
    writeControl(dir, "cgroup.event_control", `${efd} ${ofd}`, "memory.oom_control");
  } catch (e) {
    closeFd(efd);
    throw e;
  }
  const buf = Buffer.alloc(8);
  const w = {
    closed: false,
    poll() {
      if (w.closed) return 0;
      let n = 0;
      try {
        if (readSync(efd, buf, 0, 8, null) === 8) n = Number(buf.readBigUInt64LE(0));
      } catch {
        return 0; // EAGAIN: nothing happened
      }
      // The same eventfd fires once more when the cgroup is removed: that one is not an OOM.
      if (!existsSync(join(dir, "cgroup.event_control"))) {
        w.close();
        return Math.max(n - 1, 0);
      }
      return n;
    },
    close() {
      if (w.closed) return;
      w.closed = true;
      closeFd(efd);
      closeSync(ofd);
    },
  };
  return w;
}
