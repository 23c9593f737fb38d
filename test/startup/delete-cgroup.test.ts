// delete removes a stopped container's cgroup with one rmdir per directory when it is empty, and
// falls back to kill-and-remove-the-tree when a directory still holds a process or a child
// cgroup (rmdir refuses both). Real host processes in real cgroups, as test/lib/state.test.ts.
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupFor } from "../../src/lib/container-cgroup.ts";
import { writeState } from "../../src/lib/container.ts";
import { rfc3339Nano } from "../../src/base/rfc3339.ts";
import * as bunrunc from "../../src/lib/index.ts";
import { procStat } from "../../src/lib/init-process.ts";
import { makeBundle, uniqueId } from "../helpers/bundle.ts";

const canCgroup = process.getuid?.() === 0 && existsSync("/sys/fs/cgroup");
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stopped container: its init (a sleep) ran in a fresh cgroup and has been killed and reaped. */
async function stoppedContainer() {
  const b = makeBundle();
  cleanups.push(b.cleanup);
  const id = uniqueId("delcg");
  const cg = cgroupFor(id, undefined);
  cg.create();
  cleanups.push(() => cg.destroy());
  const init = Bun.spawn(["sleep", "30"]);
  cg.addProcess(init.pid);
  const initStartTime = procStat(init.pid)!.startTime;
  init.kill(9);
  await init.exited;
  mkdirSync(join(b.root, id));
  writeState(b.root, {
    ociVersion: "1.0.2-dev",
    id,
    pid: init.pid,
    status: "created",
    bundle: b.bundle,
    rootfs: b.rootfs,
    created: rfc3339Nano(),
    owner: "",
    bunrunc: { initStartTime, cgroupPaths: cg.paths, cgroupVersion: cg.version, ownPidNs: false },
  });
  return { root: b.root, id, dirs: [...new Set(Object.values(cg.paths))] };
}

const skipNote = canCgroup ? "" : " [skipped: needs root and cgroups]";

test.skipIf(!canCgroup)(`an empty cgroup is removed in every hierarchy${skipNote}`, async () => {
  const c = await stoppedContainer();
  expect(c.dirs.every((d) => existsSync(d))).toBe(true);
  await bunrunc.del({ root: c.root, id: c.id });
  expect(c.dirs.filter((d) => existsSync(d))).toEqual([]);
  expect(existsSync(join(c.root, c.id))).toBe(false);
});

test.skipIf(!canCgroup)(`a leftover process and a child cgroup are killed and removed too${skipNote}`, async () => {
  const c = await stoppedContainer();
  const stray = Bun.spawn(["sleep", "30"]);
  cleanups.push(() => (stray.kill(9), stray.exited.catch(() => null)));
  for (const d of c.dirs) writeFileSync(join(d, "cgroup.procs"), String(stray.pid));
  mkdirSync(join(c.dirs[0]!, "child"));
  await bunrunc.del({ root: c.root, id: c.id });
  expect(await stray.exited).toBe(137);
  expect({ left: c.dirs.filter((d) => existsSync(d)), child: existsSync(join(c.dirs[0]!, "child")) }).toEqual({ left: [], child: false });
});
