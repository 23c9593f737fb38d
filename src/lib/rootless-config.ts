// What an unprivileged caller's config must be, checked before anything is made, each refusal one
// line naming the field and what is missing. The kernel enforces all of it anyway (a user has
// privilege only inside the user namespace it makes); these name the cause instead of the
// EPERM/EACCES an init step would meet half way through a create.
import { accessSync, constants, statSync } from "node:fs";
import { resolve } from "node:path";
import { isBindMount } from "../plan/mount-options.ts";
import type { Spec } from "../config/types.ts";
import { BunruncError } from "../base/errors.ts";
import { clip } from "../base/quote.ts";

/**
 * Filesystems the kernel lets a user namespace mount only over a namespace it owns: procfs shows
 * a pid namespace, sysfs a network namespace, mqueue an ipc namespace.
 */
const NAMESPACE_FOR: Record<string, { ns: string; name: string; bind: string }> = {
  proc: { ns: "pid", name: "pid", bind: "/proc" },
  sysfs: { ns: "network", name: "network", bind: "/sys" },
  mqueue: { ns: "ipc", name: "ipc", bind: "/dev/mqueue" },
};

function refuse(where: string, why: string): BunruncError {
  return new BunruncError("invalid-config", `create: ${where}: ${why}`);
}

export function checkRootlessConfig(spec: Spec, bundle: string): void {
  const uid = process.geteuid!();
  const namespaces = spec.linux?.namespaces ?? [];
  const user = namespaces.find((n) => n.type === "user");
  // runc's rule: a user gets privilege only in a user namespace of its own.
  if (!user) throw refuse("linux.namespaces", `uid ${uid} is not root: a rootless container needs a user namespace (bunrunc spec --rootless writes one)`);
  if (!user.path) {
    if (!spec.linux?.uidMappings?.length) throw refuse("linux.uidMappings", "a rootless container needs at least one uid mapping");
    if (!spec.linux?.gidMappings?.length) throw refuse("linux.gidMappings", "a rootless container needs at least one gid mapping");
  }
  // A map of the caller's own gid alone is written with setgroups denied (the kernel's price).
  const gids = spec.linux?.gidMappings ?? [];
  const ownGidOnly = gids.length === 1 && Number(gids[0]!.size) === 1 && Number(gids[0]!.hostID) === process.getegid!();
  if (!user.path && ownGidOnly && spec.process?.user?.additionalGids?.length) {
    throw refuse("process.user.additionalGids", "setgroups is denied in a user namespace that maps only your own gid (map subordinate gids, through newgidmap, to use them)");
  }
  const own = (type: string) => namespaces.some((n) => n.type === type && !n.path);
  (spec.mounts ?? []).forEach((m, i) => {
    const where = `mounts[${i}]`;
    const needs = isBindMount(m.type, m.options) ? undefined : NAMESPACE_FOR[m.type ?? ""];
    if (needs && !own(needs.ns)) {
      throw refuse(where, `${m.type} on ${clip(m.destination)}: a user namespace may mount ${m.type} only with a ${needs.name} namespace of its own (add one, or bind ${needs.bind} from the host${m.type === "sysfs" ? ' as bunrunc spec --rootless does' : ""})`);
    }
    if (isBindMount(m.type, m.options) && m.source) checkBindSource(`${where}.source`, resolve(bundle, m.source), uid);
  });
}

/**
 * A bind source must be reachable by the caller: searchable for a directory, readable or
 * writable otherwise. runc binds what the kernel lets it name and leaves the refusal to the
 * container's first access; failing here names it before anything is made.
 */
function checkBindSource(where: string, path: string, uid: number): void {
  try {
    if (statSync(path).isDirectory()) accessSync(path, constants.X_OK);
    else accessAny(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return; // the init reports a missing source itself, by step
    const why = code === "EACCES" || code === "EPERM" ? "permission denied" : (e as Error).message;
    throw refuse(where, `${clip(path)}: ${why} for uid ${uid} (a rootless container reaches only what its user can)`);
  }
}

function accessAny(path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    accessSync(path, constants.W_OK);
  }
}
