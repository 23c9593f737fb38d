// `resume`: thaw a paused container (see pause.ts).
import { loadCgroup } from "./container-cgroup.ts";
import { readState, refresh } from "./container.ts";
import { BunruncError } from "../base/errors.ts";
import type { PauseOptions } from "./pause.ts";
import { withContainerLock } from "../state/store.ts";

export type ResumeOptions = PauseOptions;

/** Thaws the container, holding its lock (src/state/store.ts). */
export function resume(opts: ResumeOptions): Promise<void> {
  return withContainerLock(opts.root, opts.id, () => resumeHeld(opts));
}

function resumeHeld(opts: ResumeOptions): void {
  const saved = readState(opts.root, opts.id);
  if (refresh(opts.root, saved).status !== "paused") throw new BunruncError("bad-state", "container not paused");
  try {
    loadCgroup(saved.bunrunc.cgroupVersion, saved.bunrunc.cgroupPaths).thaw();
  } catch (e) {
    throw new BunruncError("system", `resume: ${(e as Error).message}`);
  }
}
