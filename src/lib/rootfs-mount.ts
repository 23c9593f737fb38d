// A container without a mount namespace of its own gets its mounts in the runtime's mount
// namespace, all under one private bind of the rootfs the init makes (Op.BindRootfsPrivate).
// runc leaves such mounts behind; bunrunc records the bind's mount id at create and `delete`
// (or a failed create) detaches it, which takes every mount under it along.
import { readFileSync, realpathSync } from "node:fs";
import * as ffi from "../ffi.ts";

/** "\\040" and the other octal escapes mountinfo uses in paths. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Ids of the mounts stacked at `path` in this process's mount namespace, bottom first. */
export function mountIdsAt(path: string): number[] {
  const ids: number[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    if (f.length > 4 && unescapeMountPath(f[4]!) === path) ids.push(Number(f[0]));
  }
  return ids;
}

/** The rootfs as mountinfo names it (symlinks resolved). */
export function realRootfs(rootfs: string): string {
  return realpathSync(rootfs);
}

/** The mount at `rootfs` made after `before` was taken (the init's bind), or undefined. */
export function newRootfsMount(rootfs: string, before: readonly number[]): number | undefined {
  return mountIdsAt(rootfs).filter((id) => !before.includes(id)).at(-1);
}

/**
 * Detaches the bind `id` at `rootfs` when it is still the topmost mount there (a mount id can be
 * reused once freed, so both must match); anything else at that path is not ours to remove.
 */
export function detachRootfsMount(rootfs: string, id: number): void {
  if (mountIdsAt(rootfs).at(-1) !== id) return;
  ffi.umountDetach(rootfs);
}
