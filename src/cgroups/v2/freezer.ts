// v2 freezer: cgroup.freeze 1/0; cgroup.events says "frozen 1" once every task has stopped.
import { readControl, readKeyValues, writeControl } from "../files.ts";
import { CgroupError } from "../types.ts";

const FREEZE_TIMEOUT_MS = 5_000;

export function frozen(dir: string): boolean {
  return readControl(dir, "cgroup.freeze")?.trim() === "1";
}

export async function freeze(dir: string): Promise<void> {
  writeControl(dir, "cgroup.freeze", "1", "cgroup.freeze");
  const deadline = performance.now() + FREEZE_TIMEOUT_MS;
  let delay = 1;
  while (readKeyValues(dir, "cgroup.events").get("frozen") !== 1n) {
    if (performance.now() > deadline) {
      thaw(dir);
      throw new CgroupError("cgroup.freeze", `${dir} did not report frozen within ${FREEZE_TIMEOUT_MS} ms`);
    }
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

export function thaw(dir: string): void {
  writeControl(dir, "cgroup.freeze", "0", "cgroup.freeze");
}
