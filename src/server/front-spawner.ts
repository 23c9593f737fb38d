// The front (zig/front.zig) as the library's spawner for a served call: the container's processes
// must be the caller's children, as runc's would be (a subreaper caller reaps them), so the server
// sends the front a Spawn record and the front clones them, then waits for foreground ones itself.
import * as ffi from "../ffi.ts";
import * as transport from "../ffi-server.ts";
import { waitUnreaped, type SpawnRequest, type Spawner } from "../lib/spawner.ts";
import type { Admitted } from "./admission.ts";
import { decodeSpawned, spawnRecord } from "./proto.ts";

/** A front answers Spawn as soon as its clone3 returns; one that does not is not waited for long. */
const SPAWN_REPLY_WAIT_MS = 10_000;

/** The front as the library's spawner: it clones the processes and waits for foreground ones. */
export function frontSpawner(conn: number, who: Admitted): Spawner {
  return {
    pid: who.pid,
    cgroups: () => who.cgroups,
    servedBy: `served by the resident server, pid ${process.pid}`,
    waitsInCaller: true,
    spawn: (r) => spawnInFront(conn, r),
    waitExited: waitUnreaped,
  };
}

function spawnInFront(conn: number, r: SpawnRequest): ffi.Spawned {
  const extra = r.extraFds ?? [];
  const join = r.cgroupJoinFds ?? [];
  const fds = [...extra, ...join, ...(r.cgroupFd === undefined ? [] : [r.cgroupFd])];
  transport.msgSend(
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
  const reply = transport.msgRecv(conn, SPAWN_REPLY_WAIT_MS, 64);
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

