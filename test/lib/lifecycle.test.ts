// create -> list (created) -> start -> list (running) -> stopped -> delete, the wrong-state errors
// in runc's words, failure cleanup, and nothing left on the host afterwards. Via the library.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { listTable } from "../../src/lib/format.ts";
import * as bunrunc from "../../src/lib/index.ts";
import { defaultSpec, hostSnapshot, leaksSince, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, SKIP_REASON } from "./container-helper.ts";

const before = canRunContainers ? hostSnapshot() : undefined;
const bundles: TestBundle[] = [];
afterEach(async () => {
  for (const b of bundles.splice(0)) {
    for (const s of bunrunc.list({ root: b.root })) await bunrunc.delete({ root: b.root, id: s.id, force: true });
    b.cleanup();
  }
});

function sleeper(): TestBundle {
  const b = makeBundle(defaultSpec(["sleep", "300"]));
  bundles.push(b);
  return b;
}

async function until(f: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!f()) {
    if (performance.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(5);
  }
}

describe.skipIf(!canRunContainers)(`lifecycle${SKIP_REASON}`, () => {
  test("create -> created -> start -> running -> kill -> stopped -> delete, with runc's list table", async () => {
    const b = sleeper();
    const id = uniqueId("life");
    const pidFile = join(b.dir, "pid");
    const created = await bunrunc.create({ root: b.root, id, bundle: b.bundle, pidFile });
    expect(readFileSync(pidFile, "utf8")).toBe(String(created.pid));
    let items = bunrunc.list({ root: b.root });
    expect(items).toMatchObject([{ id, pid: created.pid, status: "created", bundle: b.bundle, owner: "root" }]);
    const table = listTable(items).split("\n");
    expect(table[0]).toMatch(/^ID +PID +STATUS +BUNDLE +CREATED +OWNER$/);
    expect(table[1]).toMatch(new RegExp(`^${id} +${created.pid} +created +${b.bundle} +\\S+Z +root$`));

    await bunrunc.start({ root: b.root, id });
    expect(bunrunc.state({ root: b.root, id })).toMatchObject({ status: "running", pid: created.pid, rootfs: b.rootfs });
    await expect(bunrunc.start({ root: b.root, id })).rejects.toThrow("cannot start an already running container");
    await expect(bunrunc.delete({ root: b.root, id })).rejects.toThrow(`cannot delete container ${id} that is not stopped: running`);

    await bunrunc.kill({ root: b.root, id, signal: "KILL" });
    await until(() => bunrunc.state({ root: b.root, id }).status === "stopped");
    items = bunrunc.list({ root: b.root });
    expect(items).toMatchObject([{ id, pid: 0, status: "stopped" }]);
    await expect(bunrunc.kill({ root: b.root, id, signal: 15 })).rejects.toThrow("container not running");
    await expect(bunrunc.start({ root: b.root, id })).rejects.toThrow("cannot start a container that has stopped");
    await bunrunc.delete({ root: b.root, id });
    expect(bunrunc.list({ root: b.root })).toEqual([]);
    expect(existsSync(join(b.root, id))).toBe(false);
  });

  test("a created container is deleted without --force (deliberate deviation, like runc)", async () => {
    const b = sleeper();
    const id = uniqueId("created");
    const c = await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    await bunrunc.delete({ root: b.root, id });
    expect(existsSync(`/proc/${c.pid}/stat`) && !readFileSync(`/proc/${c.pid}/stat`, "utf8").includes(") Z ")).toBe(false);
    expect(bunrunc.list({ root: b.root })).toEqual([]);
  });

  test("an existing id is refused in runc's words", async () => {
    const b = sleeper();
    const id = uniqueId("dup");
    await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    await expect(bunrunc.create({ root: b.root, id, bundle: b.bundle })).rejects.toThrow("container with given ID already exists");
    // The refused create must not touch the container that has the id.
    expect(bunrunc.state({ root: b.root, id }).status).toBe("created");
  });

  test("a failing step names itself and leaves nothing behind", async () => {
    const b = makeBundle(defaultSpec(["/no/such/binary"]));
    bundles.push(b);
    const id = uniqueId("fail");
    await expect(bunrunc.create({ root: b.root, id, bundle: b.bundle })).rejects.toThrow(/^create: find executable \/no\/such\/binary: .*no such file or directory/);
    expect(existsSync(join(b.root, id))).toBe(false);
  });

  test("a failing createRuntime hook fails create and cleans up", async () => {
    const spec = defaultSpec(["sleep", "300"]);
    spec.hooks = { createRuntime: [{ path: "/bin/true" }, { path: "/bin/false" }] };
    const b = makeBundle(spec);
    bundles.push(b);
    const id = uniqueId("hookfail");
    await expect(bunrunc.create({ root: b.root, id, bundle: b.bundle })).rejects.toThrow("create: error running createRuntime hook #1 (/bin/false): exit status 1");
    expect(existsSync(join(b.root, id))).toBe(false);
  });

  test("kill --all reaches every process of the container", async () => {
    const b = makeBundle(defaultSpec(["sh", "-c", "sleep 300 & sleep 300 & wait"]));
    bundles.push(b);
    const id = uniqueId("killall");
    await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    await bunrunc.start({ root: b.root, id });
    await bunrunc.kill({ root: b.root, id, signal: "9", all: true });
    await until(() => bunrunc.state({ root: b.root, id }).status === "stopped");
  });

  test("run --detach leaves a running container; run --keep keeps the stopped one", async () => {
    const b = sleeper();
    const id = uniqueId("detach");
    expect(await bunrunc.run({ root: b.root, id, bundle: b.bundle, detach: true })).toBe(0);
    expect(bunrunc.state({ root: b.root, id }).status).toBe("running");
    const k = makeBundle(defaultSpec(["true"]));
    bundles.push(k);
    const kid = uniqueId("keep");
    expect(await bunrunc.run({ root: k.root, id: kid, bundle: k.bundle, keep: true })).toBe(0);
    expect(bunrunc.state({ root: k.root, id: kid }).status).toBe("stopped");
  });
});

afterAll(() => {
  if (!before) return;
  expect(leaksSince(before)).toEqual({ mounts: [], cgroups: [], processes: [] });
});
