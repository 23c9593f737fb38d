// `state` and `list`: saved state + live status, in runc's shapes.
import { isUntrustedState, listIds, ownerName, readState, refresh, type ContainerState } from "./container.ts";

/** runc's `state` JSON: the OCI state plus rootfs, created and owner, in runc's key order. */
export interface StateJson {
  ociVersion: string;
  id: string;
  pid: number;
  status: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export function toStateJson(s: ContainerState, owner = s.owner): StateJson {
  const annotations = s.annotations && Object.keys(s.annotations).length ? { annotations: s.annotations } : {};
  return { ociVersion: s.ociVersion, id: s.id, pid: s.pid, status: s.status, bundle: s.bundle, rootfs: s.rootfs, created: s.created, ...annotations, owner };
}

/** `bunrunc state`: the container's state with its live status (a dead init reads as stopped). */
export function state(opts: { root: string; id: string }): StateJson {
  return toStateJson(refresh(opts.root, readState(opts.root, opts.id)));
}

/**
 * Every container under root with its live status; `owner` is the state dir owner's name (runc's
 * list). A root another user could write is refused; an entry whose directory or state.json
 * another user could write is skipped with a warning (runc's list skips, with a message, the
 * entries it cannot load; one planted entry must not hide the others).
 */
export function list(opts: { root: string; warn?: (message: string) => void }): StateJson[] {
  const out: StateJson[] = [];
  for (const id of listIds(opts.root)) {
    let s: ContainerState;
    try {
      s = readState(opts.root, id);
    } catch (e) {
      if (isUntrustedState(e)) opts.warn?.(`skipping ${id}: ${(e as Error).message}`);
      continue; // or removed while we looked
    }
    out.push(toStateJson(refresh(opts.root, s), ownerName(opts.root, id)));
  }
  return out;
}
