// Idmapped mounts (mount options idmap/ridmap, mounts[].uidMappings/gidMappings), made here on
// the host side before the init runs: the kernel lets only a caller privileged over the
// filesystem's user namespace idmap a mount, which the init in the container's user namespace is
// not (runc 1.2+ prepares them in its parent too). Each becomes a detached mount fd the init
// attaches where the mount goes (zig/idmap.zig, zig/init/mount.zig).
import { CompileError, idmapRequests } from "../plan/mounts.ts";
import type { IdMapping, Spec } from "../config/types.ts";
import { BunruncError } from "../base/errors.ts";
import * as ffi from "../ffi.ts";

const EXTRA_FDS_MAX = 16;

const mapText = (maps: readonly IdMapping[]) => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");

/**
 * Makes every idmapped mount of the config; each fd is appended to `extraFds` (numbered in the
 * init from `firstFd` on, in that order) and to `opened` (closed by the caller). Returns mounts[]
 * index -> the init's fd.
 */
export function makeIdmappedMounts(spec: Spec, bundle: string, extraFds: number[], opened: number[], firstFd: number): Map<number, number> {
  const fds = new Map<number, number>();
  let requests;
  try {
    requests = idmapRequests(spec, bundle);
  } catch (e) {
    if (e instanceof CompileError) throw new BunruncError("invalid-config", `create: ${e.message}`);
    throw e;
  }
  // The init takes at most 16 extra fds (zig/spawn.zig): the exec fifo, a console socket, these.
  if (extraFds.length + requests.length > EXTRA_FDS_MAX) throw new BunruncError("invalid-config", `create: mounts: at most ${EXTRA_FDS_MAX - extraFds.length} idmapped mounts, got ${requests.length}`);
  for (const r of requests) {
    let fd: number;
    try {
      fd = ffi.idmappedTree(r.source, { clone: r.cloneRecursive, idmap: r.idmapRecursive }, mapText(r.uidMappings), mapText(r.gidMappings));
    } catch (e) {
      throw new BunruncError("system", `create: mounts[${r.index}]: idmap ${r.source}: ${(e as Error).message}`);
    }
    opened.push(fd);
    fds.set(r.index, firstFd + extraFds.length);
    extraFds.push(fd);
  }
  return fds;
}
