// `pause` and `resume`: freeze and thaw every process of the container through its cgroup's
// freezer (v1 freezer.state, v2 cgroup.freeze); `state` then says paused / running again.
import { loadCgroup } from "./container-cgroup.ts";
import { readState, refresh } from "./container.ts";
import { BunruncError } from "../base/errors.ts";
import { withContainerLock } from "../state/store.ts";

export interface PauseOptions {
  root: string;
  id: string;
}

/** Freezes the container, holding its lock (src/state/store.ts). */
export function pause(opts: PauseOptions): Promise<void> {
  return withContainerLock(opts.root, opts.id, () => pauseHeld(opts));
}

async function pauseHeld(opts: PauseOptions): Promise<void> {
  const saved = readState(opts.root, opts.id);
  const s = refresh(opts.root, saved);
  // runc pauses created containers too; a paused one is left as it is.
  if (s.status === "paused") return;
  if (s.status !== "running" && s.status !== "created") throw new BunruncError("bad-state", "container not running");
  try {
    await loadCgroup(saved.bunrunc.cgroupVersion, saved.bunrunc.cgroupPaths).freeze();
  } catch (e) {
    throw new BunruncError("system", `pause: ${(e as Error).message}`);
  }
}
