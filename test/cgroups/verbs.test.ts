// update, pause/resume, ps and events on a container whose init is a real host process in a
// real throwaway cgroup (no Zig init needed), through the library and through the CLI.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeState, type ContainerState } from "../../src/lib/container.ts";
import * as bunrunc from "../../src/lib/index.ts";
import { procStat } from "../../src/lib/init-process.ts";
import type { Resources } from "../../src/cgroups/types.ts";
import { uniqueId } from "../helpers/bundle.ts";
import { CG_SKIP, canCgroup, throwaway, version, waitFor, type Throwaway } from "./helpers.ts";

const REPO = resolve(import.meta.dir, "../..");
const MiB = 1024 * 1024;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Fake {
  id: string;
  root: string;
  pid: number;
  t: Throwaway;
}

/** A container whose init is `script` (a shell that joined the cgroup first; we wait for that). */
async function fakeContainer(script = "exec sleep 60", resources: Resources = {}): Promise<Fake> {
  const root = mkdtempSync(join(tmpdir(), "bunrunc-test-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const t = throwaway("verb");
  cleanups.push(() => t.cleanup());
  t.mgr.apply(resources);
  const init = t.spawn(script);
  if (!(await waitFor(() => t.mgr.pids().includes(init.pid)))) throw new Error(`pid ${init.pid} never joined ${t.mgr.dirs()[0]}`);
  const id = uniqueId("verb");
  mkdirSync(join(root, id));
  const s: ContainerState = {
    ociVersion: "1.0.2-dev",
    id,
    pid: init.pid,
    status: "running",
    bundle: root,
    rootfs: root,
    created: new Date().toISOString(),
    owner: "",
    bunrunc: { initStartTime: procStat(init.pid)!.startTime, cgroupPaths: t.mgr.paths, cgroupVersion: t.mgr.version, ownPidNs: false },
  };
  writeState(root, s);
  return { id, root, pid: init.pid, t };
}

/** utime+stime of a process, in ticks. */
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
}

function cli(args: string[], stdin?: string) {
  const r = Bun.spawnSync([process.execPath, join(REPO, "src/main.ts"), ...args], { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

const limitFile = version === 1 ? "memory.limit_in_bytes" : "memory.max";
const memDir = (f: Fake) => (version === 1 ? f.t.mgr.paths.memory! : f.t.mgr.dir);
const pidsDir = (f: Fake) => (version === 1 ? f.t.mgr.paths.pids! : f.t.mgr.dir);

describe.skipIf(!canCgroup)(`verbs on a cgroup v${version} container${CG_SKIP}`, () => {
  test("pause freezes the processes (no CPU time), state says paused; resume thaws them", async () => {
    const f = await fakeContainer("while :; do :; done");
    await bunrunc.pause({ root: f.root, id: f.id });
    expect(bunrunc.state({ root: f.root, id: f.id }).status).toBe("paused");
    // The last tick before the freeze may be accounted late (seen under QEMU's emulation): allow
    // one. A running busy loop gains ~30 ticks in 300 ms, as the resume check below shows.
    const before = cpuTicks(f.pid);
    await Bun.sleep(300);
    expect(cpuTicks(f.pid) - before).toBeLessThanOrEqual(1);
    await expect(bunrunc.pause({ root: f.root, id: f.id })).resolves.toBeUndefined();
    await bunrunc.resume({ root: f.root, id: f.id });
    expect(bunrunc.state({ root: f.root, id: f.id }).status).toBe("running");
    expect(await waitFor(() => cpuTicks(f.pid) > before + 5)).toBe(true);
    await expect(bunrunc.resume({ root: f.root, id: f.id })).rejects.toThrow("container not paused");
  });

  test("pause/resume through the CLI; a stopped container cannot be paused", async () => {
    const f = await fakeContainer();
    expect(cli(["--root", f.root, "pause", f.id])).toMatchObject({ code: 0, out: "", err: "" });
    expect(JSON.parse(cli(["--root", f.root, "state", f.id]).out).status).toBe("paused");
    expect(cli(["--root", f.root, "resume", f.id])).toMatchObject({ code: 0, out: "" });
    expect(JSON.parse(cli(["--root", f.root, "state", f.id]).out).status).toBe("running");
    process.kill(f.pid, 9);
    await waitFor(() => bunrunc.state({ root: f.root, id: f.id }).status === "stopped");
    const r = cli(["--root", f.root, "pause", f.id]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("container not running");
  });

  test("update changes live limits: library, runc flags, and -r - with containerd's JSON on stdin", async () => {
    const f = await fakeContainer("exec sleep 60", { memory: { limit: 64 * MiB }, pids: { limit: 100 } });
    await bunrunc.update({ root: f.root, id: f.id, resources: { memory: { limit: 48 * MiB } } });
    expect(readFileSync(join(memDir(f), limitFile), "utf8").trim()).toBe(String(48 * MiB));
    expect(cli(["--root", f.root, "update", "--memory", "40m", "--pids-limit", "7", f.id])).toMatchObject({ code: 0, err: "" });
    expect(readFileSync(join(memDir(f), limitFile), "utf8").trim()).toBe(String(40 * MiB));
    expect(readFileSync(join(pidsDir(f), "pids.max"), "utf8").trim()).toBe("7");
    // docker/containerd send a whole LinuxResources with zeros for "unchanged".
    const json = JSON.stringify({ memory: { limit: 32 * MiB, reservation: 0, swap: 0, kernel: 0, kernelTCP: 0 }, cpu: { shares: 0, quota: 0, period: 0, realtimeRuntime: 0, realtimePeriod: 0, cpus: "", mems: "" }, blockIO: { weight: 0 }, pids: { limit: 0 } });
    expect(cli(["--root", f.root, "update", "--resources=-", f.id], json)).toMatchObject({ code: 0, err: "" });
    expect(readFileSync(join(memDir(f), limitFile), "utf8").trim()).toBe(String(32 * MiB));
    expect(readFileSync(join(pidsDir(f), "pids.max"), "utf8").trim()).toBe("7");
  });

  test("update records the limits in the container's state: flags and JSON merged, docker's zeros change nothing", async () => {
    const f = await fakeContainer("exec sleep 60", { memory: { limit: 64 * MiB }, pids: { limit: 100 } });
    const recorded = () => JSON.parse(readFileSync(join(f.root, f.id, "state.json"), "utf8")).bunrunc.resources;
    expect(recorded()).toBeUndefined();
    expect(cli(["--root", f.root, "update", "--memory", "40m", "--pids-limit", "7", f.id]).code).toBe(0);
    expect(recorded()).toEqual({ memory: { limit: 40 * MiB }, pids: { limit: 7 } });
    const json = JSON.stringify({ memory: { limit: 32 * MiB, reservation: 0, swap: 0 }, cpu: { shares: 0, quota: 0, period: 0, cpus: "", mems: "" }, blockIO: { weight: 0 }, pids: { limit: 0 } });
    expect(cli(["--root", f.root, "update", "--resources=-", f.id], json).code).toBe(0);
    expect(recorded()).toEqual({ memory: { limit: 32 * MiB }, pids: { limit: 7 } });
    // A refused update records nothing.
    expect(cli(["--root", f.root, "update", "-r", "-", f.id], JSON.stringify({ memory: { swappiness: 101 } })).code).toBe(1);
    expect(recorded()).toEqual({ memory: { limit: 32 * MiB }, pids: { limit: 7 } });
  });

  test("update refuses bad input in one line naming the field, and leaves the limits", async () => {
    const f = await fakeContainer("exec sleep 60", { memory: { limit: 64 * MiB } });
    const bad = cli(["--root", f.root, "update", "-r", "-", f.id], JSON.stringify({ memory: { limit: "lots" } }));
    expect(bad.code).toBe(1);
    expect(bad.err.trim().split("\n")).toHaveLength(1);
    expect(bad.err).toContain("memory.limit");
    const flag = cli(["--root", f.root, "update", "--memory", "12zz", f.id]);
    expect(flag.code).toBe(1);
    expect(flag.err).toContain("invalid value for memory");
    const unsupported = cli(["--root", f.root, "update", "-r", "-", f.id], JSON.stringify({ unified: { "memory.high": "1" } }));
    if (version === 1) {
      expect(unsupported.code).toBe(1);
      expect(unsupported.err).toContain("linux.resources.unified");
    }
    expect(readFileSync(join(memDir(f), limitFile), "utf8").trim()).toBe(String(64 * MiB));
  });

  test("ps --format json prints only the JSON pid array; table keeps the header and our rows", async () => {
    const f = await fakeContainer("sleep 60 & exec sleep 61");
    await waitFor(() => f.t.mgr.pids().length === 2);
    const pids = JSON.parse(cli(["--root", f.root, "ps", "--format", "json", f.id]).out) as number[];
    expect(pids).toContain(f.pid);
    expect(pids.length).toBe(2);
    expect(bunrunc.ps({ root: f.root, id: f.id })).toEqual(pids);
    const table = cli(["--root", f.root, "ps", f.id]);
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/\bPID\b/);
    expect(lines.length).toBe(3);
    const custom = cli(["--root", f.root, "ps", f.id, "-o", "pid,comm"]).out.trimEnd().split("\n");
    expect(custom[0]!.trim().split(/\s+/)).toEqual(["PID", "COMMAND"]);
    expect(custom.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort()).toEqual(["sleep", "sleep"]);
  });

  test("events --stats: one JSON line in runc's stats shape", async () => {
    const f = await fakeContainer("exec sleep 60", { memory: { limit: 64 * MiB }, pids: { limit: 50 } });
    const r = cli(["--root", f.root, "events", "--stats", f.id]);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    const e = JSON.parse(lines[0]!);
    expect(Object.keys(e)).toEqual(["type", "id", "data"]);
    expect(e).toMatchObject({ type: "stats", id: f.id });
    expect(Object.keys(e.data)).toEqual(["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]);
    expect(e.data.pids).toEqual({ current: 1, limit: 50 });
    expect(e.data.memory.usage.limit).toBe(64 * MiB);
    expect(e.data.memory.usage.usage).toBeGreaterThan(0);
    expect(typeof e.data.memory.raw).toBe("object");
    expect(e.data.cpuset.cpus.length).toBeGreaterThan(0);
    expect(e.data.cpu.usage.total ?? 0).toBeGreaterThanOrEqual(0);
  });

  test("events streams stats every --interval and an oom event when the OOM killer acts", async () => {
    const f = await fakeContainer("exec sleep 60", { memory: { limit: 16 * MiB, swap: 16 * MiB } });
    const seen: string[] = [];
    const ac = new AbortController();
    const done = (async () => {
      for await (const e of bunrunc.events({ root: f.root, id: f.id, intervalMs: 100, signal: ac.signal })) seen.push(e.type);
    })();
    await Bun.sleep(250);
    // A memory hog inside the container's cgroup: the kernel kills it.
    const hog = f.t.spawn("x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived");
    const code = await hog.exited;
    expect(code).toBe(137);
    expect(await waitFor(() => seen.includes("oom"), 3000)).toBe(true);
    expect(seen.filter((t) => t === "stats").length).toBeGreaterThanOrEqual(2);
    // The stream ends by itself once the container's cgroup is gone. (The OOM killer may have
    // picked the init too: it shares the 16 MiB.)
    try {
      process.kill(f.pid, 9);
    } catch {}
    await f.t.cleanup();
    await done;
    ac.abort();
  });

  test("events --interval takes a Go duration and streams past the init's exit until delete removes the cgroup", async () => {
    const f = await fakeContainer();
    const p = Bun.spawn([process.execPath, join(REPO, "src/main.ts"), "--root", f.root, "events", "--interval", "150ms", f.id], { stdout: "pipe", stderr: "pipe" });
    // Read until two events arrived (the CLI may start slowly, e.g. under TCG), then stop the init.
    const reader = p.stdout.getReader();
    let out = "";
    while (out.split("\n").length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    process.kill(f.pid, 9);
    expect(await waitFor(() => bunrunc.state({ root: f.root, id: f.id }).status === "stopped")).toBe(true);
    // Stopped, and still streaming: two more events arrive before the cgroup goes.
    const before = out.split("\n").length;
    while (out.split("\n").length < before + 2) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      out += new TextDecoder().decode(value);
    }
    expect(cli(["--root", f.root, "delete", f.id]).code).toBe(0);
    for (let r = await reader.read(); !r.done; r = await reader.read()) out += new TextDecoder().decode(r.value);
    expect(await p.exited).toBe(0);
    const lines = out.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const e of lines) expect(e).toMatchObject({ type: "stats", id: f.id });
    const bad = cli(["--root", f.root, "events", "--interval", "0s", f.id]);
    expect(bad.code).not.toBe(0);
  });

  test("events on a stopped container fails like runc", async () => {
    const f = await fakeContainer();
    process.kill(f.pid, 9);
    await waitFor(() => bunrunc.state({ root: f.root, id: f.id }).status === "stopped");
    const r = cli(["--root", f.root, "events", "--stats", f.id]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`container with id ${f.id} is not running`);
  });
});
