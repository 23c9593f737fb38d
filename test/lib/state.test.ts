// state/list/kill/delete on a container whose init is a real host process (sleep) in a real
// cgroup: status from the live process and its start time, runc's wording, nothing left behind.
// Independent of the Zig init, so these run even where containers cannot be spawned.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupFor } from "../../src/lib/container-cgroup.ts";
import { writeState, type ContainerState } from "../../src/lib/container.ts";
import { rfc3339Nano } from "../../src/base/rfc3339.ts";
import { listTable, tabulate } from "../../src/lib/format.ts";
import * as bunrunc from "../../src/lib/index.ts";
import { procStat } from "../../src/lib/init-process.ts";
import { makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";

const canCgroup = process.getuid?.() === 0 && existsSync("/sys/fs/cgroup");
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function fakeContainer(b: TestBundle, opts: { fifo?: boolean; hooks?: object } = {}) {
  const id = uniqueId("state");
  const proc = Bun.spawn(["sleep", "30"]);
  const cg = cgroupFor(id, undefined);
  cg.create();
  cleanups.push(() => cg.destroy());
  // delete reaps the init when it is our child, so Bun's own wait may find nothing left.
  cleanups.push(() => (proc.kill(9), proc.exited.catch(() => null)));
  cg.addProcess(proc.pid);
  mkdirSync(join(b.root, id));
  if (opts.fifo) writeFileSync(join(b.root, id, "exec.fifo"), "");
  const s: ContainerState = {
    ociVersion: "1.0.2-dev",
    id,
    pid: proc.pid,
    status: "created",
    bundle: b.bundle,
    rootfs: b.rootfs,
    created: rfc3339Nano(),
    owner: "",
    bunrunc: { initStartTime: procStat(proc.pid)!.startTime, cgroupPaths: cg.paths, cgroupVersion: cg.version, ownPidNs: false, hooks: opts.hooks as never },
  };
  writeState(b.root, s);
  return { id, proc, cg, s };
}

describe.skipIf(!canCgroup)("state and list (needs root and cgroups)", () => {
  test("created while the fifo exists, running after, stopped with pid 0 once the init is gone", async () => {
    const b = makeBundle();
    cleanups.push(b.cleanup);
    const { id, proc, cg } = fakeContainer(b, { fifo: true });
    expect(bunrunc.state({ root: b.root, id })).toMatchObject({ id, pid: proc.pid, status: "created", bundle: b.bundle, rootfs: b.rootfs, owner: "" });
    const { unlinkSync } = await import("node:fs");
    unlinkSync(join(b.root, id, "exec.fifo"));
    expect(bunrunc.state({ root: b.root, id }).status).toBe("running");
    const items = bunrunc.list({ root: b.root });
    expect(items.map((i) => [i.id, i.status, i.owner])).toEqual([[id, "running", "root"]]);
    const table = listTable(items).split("\n");
    expect(table[0]).toMatch(/^ID {2,}PID {2,}STATUS {2,}BUNDLE {2,}CREATED {2,}OWNER$/);
    expect(table[1]).toMatch(new RegExp(`^${id} +${proc.pid} +running +${b.bundle} +\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +root$`));
    expect(table[0]!.indexOf("PID")).toBe(table[1]!.indexOf(String(proc.pid)));

    expect(() => bunrunc.delete({ root: b.root, id })).toThrow(`cannot delete container ${id} that is not stopped: running`);
    await bunrunc.kill({ root: b.root, id, signal: "KILL" });
    await proc.exited;
    expect(bunrunc.state({ root: b.root, id })).toMatchObject({ status: "stopped", pid: 0 });
    await expect(bunrunc.kill({ root: b.root, id, signal: "9" })).rejects.toThrow("container not running");
    await bunrunc.delete({ root: b.root, id });
    expect(existsSync(join(b.root, id))).toBe(false);
    expect(Object.values(cg.paths).some((p) => existsSync(p))).toBe(false);
    expect(() => bunrunc.state({ root: b.root, id })).toThrow("container does not exist");
  });

  test("a recycled pid (other start time) reads as stopped", () => {
    const b = makeBundle();
    cleanups.push(b.cleanup);
    const { id, s } = fakeContainer(b);
    writeState(b.root, { ...s, bunrunc: { ...s.bunrunc, initStartTime: "1" } });
    expect(bunrunc.state({ root: b.root, id })).toMatchObject({ status: "stopped", pid: 0 });
  });

  test("delete --force kills a running container and runs poststop hooks; --force on a missing id is fine", async () => {
    const b = makeBundle();
    cleanups.push(b.cleanup);
    const mark = join(b.dir, "poststop");
    const { id, proc, cg } = fakeContainer(b, { hooks: { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${mark}`] }] } });
    await bunrunc.delete({ root: b.root, id, force: true });
    expect(existsSync(`/proc/${proc.pid}`)).toBe(false);
    expect(existsSync(join(b.root, id))).toBe(false);
    expect(Object.values(cg.paths).some((p) => existsSync(p))).toBe(false);
    expect(JSON.parse(await Bun.file(mark).text())).toMatchObject({ id, status: "stopped" });
    await bunrunc.delete({ root: b.root, id: "never-existed", force: true });
    expect(bunrunc.delete({ root: b.root, id: "never-existed" })).rejects.toThrow("container does not exist");
  });

  test("a creating record without an init yet: creating while its creator lives, then stopped; delete removes its cgroup", async () => {
    const b = makeBundle();
    cleanups.push(b.cleanup);
    const { id, proc, cg, s } = fakeContainer(b);
    // The record a create writes before it spawns: no init, the creator's pid and start time.
    proc.kill(9);
    await proc.exited;
    const creator = Bun.spawn(["sleep", "30"]);
    cleanups.push(() => (creator.kill(9), creator.exited));
    writeState(b.root, { ...s, status: "creating", pid: 0, bunrunc: { ...s.bunrunc, initStartTime: "", creator: { pid: creator.pid, startTime: procStat(creator.pid)!.startTime } } });
    expect(bunrunc.state({ root: b.root, id })).toMatchObject({ status: "creating", pid: 0 });
    await expect(bunrunc.delete({ root: b.root, id })).rejects.toThrow(`cannot delete container ${id} that is not stopped: creating`);
    creator.kill(9);
    await creator.exited;
    expect(bunrunc.state({ root: b.root, id })).toMatchObject({ status: "stopped", pid: 0 });
    await bunrunc.delete({ root: b.root, id });
    expect(existsSync(join(b.root, id))).toBe(false);
    expect(Object.values(cg.paths).some((p) => existsSync(p))).toBe(false);
  });

  test("kill --all signals every process in the cgroup", async () => {
    const b = makeBundle();
    cleanups.push(b.cleanup);
    const { id, proc, cg } = fakeContainer(b);
    const other = Bun.spawn(["sleep", "30"]);
    cleanups.push(() => (other.kill(9), other.exited));
    cg.addProcess(other.pid);
    await bunrunc.kill({ root: b.root, id, signal: "SIGTERM", all: true });
    expect(await proc.exited).not.toBe(0);
    expect(await other.exited).not.toBe(0);
  });
});

test("signal parsing accepts numbers, names and SIG names; unknown ones fail with runc's wording", () => {
  expect(bunrunc.parseSignal("9")).toBe(9);
  expect(bunrunc.parseSignal("KILL")).toBe(9);
  expect(bunrunc.parseSignal("sigusr1")).toBe(10);
  expect(bunrunc.parseSignal("RTMIN+2")).toBe(36);
  expect(() => bunrunc.parseSignal("FOO")).toThrow('unknown signal "FOO"');
});

test("tabulate pads like Go's tabwriter (minwidth 12, padding 3)", () => {
  expect(tabulate([["ID", "X"], ["a-much-longer-id", "Y"]])).toBe(`ID${" ".repeat(17)}X\na-much-longer-id   Y\n`);
  expect(tabulate([["a", "b", "c"]])).toBe(`a${" ".repeat(11)}b${" ".repeat(11)}c\n`);
  expect(rfc3339Nano(new Date("2024-01-02T03:04:05.120Z"), 0)).toBe("2024-01-02T03:04:05.12Z");
});
