// v1 freezer: freezer.state FROZEN/THAWED. Freezing can pass through FREEZING while tasks are
// in uninterruptible sleep; we retry until FROZEN or give up (thawing again) after a deadline.
import { readControl, writeControl } from "../files.ts";
import { CgroupError } from "../types.ts";

const FREEZE_TIMEOUT_MS = 5_000;

export function frozen(dir: string): boolean {
  const s = readControl(dir, "freezer.state")?.trim();
  return s === "FROZEN" || s === "FREEZING";
}

export async function freeze(dir: string): Promise<void> {
  const deadline = performance.now() + FREEZE_TIMEOUT_MS;
  let delay = 1;
  for (;;) {
    writeControl(dir, "freezer.state", "FROZEN", "freezer.state");
    if (readControl(dir, "freezer.state")?.trim() === "FROZEN") return;
    if (performance.now() > deadline) {
      thaw(dir);
      throw new CgroupError("freezer.state", `${dir} did not reach FROZEN within ${FREEZE_TIMEOUT_MS} ms`);
    }
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

export function thaw(dir: string): void {
  writeControl(dir, "freezer.state", "THAWED", "freezer.state");
}
