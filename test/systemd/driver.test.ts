// The systemd cgroup driver (--systemd-cgroup), on a host where systemd is PID 1: the container's
// cgroup is a transient scope started over D-Bus, with the config's limits as unit properties;
// `update` changes them through systemd, `delete` stops the unit (only while it is the start create
// recorded), and a daemon-reexec in between changes nothing; a call on such a container is never
// served by the resident server, with or without the flag. Runs in the systemd VM tier (test/vm-systemd); skipped elsewhere, saying why.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec, makeBundle, type TestBundle } from "../helpers/bundle.ts";
import { REPO, run, runDetaching, waitFor } from "../e2e/rig.ts";
import { sharesToWeight } from "../../src/cgroups/v2/cpu.ts";
import { peerPidfds, SERVED } from "../helpers/front.ts";
import { alive, cgroupFile, cgroupOf, skipTitle, SYSTEMD_SKIP, unitLoaded, unitProps } from "./helpers.ts";

const BUNRUNC = join(REPO, "dist/bunrunc");
/** Each call starts Bun, which takes seconds under TCG on a busy host: generous, never a timing assertion. */
const CALL_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 900_000;
const MiB = 1024 * 1024;
const made: { b: TestBundle; id: string }[] = [];

// What a failed test left: its container and its unit (each call starts Bun, slow under TCG).
afterAll(() => {
  for (const { b, id } of made) {
    if (existsSync(join(b.root, id))) run([BUNRUNC, "--root", b.root, "delete", "--force", id], { timeoutMs: CALL_TIMEOUT_MS });
    if (unitLoaded(`bunrunc-${id}.scope`)) run(["systemctl", "stop", `bunrunc-${id}.scope`]);
    b.cleanup();
  }
}, TEST_TIMEOUT_MS);

/** A bundle whose config puts the container in system.slice:bunrunc:ID with these limits. */
function bundle(args: string[], resources: Record<string, unknown>): { b: TestBundle; id: string; unit: string; cli: Cli; detaching: Cli } {
  const id = `sdd${process.pid}x${made.length}`;
  const spec = defaultSpec(args);
  spec.linux!.cgroupsPath = `system.slice:bunrunc:${id}`;
  spec.linux!.resources = { ...(spec.linux!.resources ?? {}), ...resources } as never;
  const b = makeBundle(spec);
  made.push({ b, id });
  const argv = (a: string[]) => [BUNRUNC, "--root", b.root, "--systemd-cgroup", ...a];
  const cli = (...a: string[]) => run(argv(a), { timeoutMs: CALL_TIMEOUT_MS });
  // run -d and create leave the container holding the caller's stdio: pipes would keep the call waiting.
  const detaching = (...a: string[]) => runDetaching(argv(a), { timeoutMs: CALL_TIMEOUT_MS });
  return { b, id, unit: `bunrunc-${id}.scope`, cli, detaching };
}

type Cli = (...a: string[]) => ReturnType<typeof run>;
const initPid = (b: TestBundle, id: string) => JSON.parse(run([BUNRUNC, "--root", b.root, "state", id], { timeoutMs: CALL_TIMEOUT_MS }).stdout).pid as number;

describe.skipIf(SYSTEMD_SKIP !== "")(skipTitle("systemd cgroup driver"), () => {
  test("features says the systemd driver is there", () => {
    expect(JSON.parse(run([BUNRUNC, "features"], { timeoutMs: CALL_TIMEOUT_MS }).stdout).linux.cgroup.systemd).toBe(true);
  }, TEST_TIMEOUT_MS);

  test("run -d: the scope holds the init, with MemoryMax, TasksMax and CPUWeight from the config; update --memory changes MemoryMax; delete removes the unit", async () => {
    const c = bundle(["sleep", "1000"], { memory: { limit: 64 * MiB }, pids: { limit: 77 }, cpu: { shares: 512 } });
    const r = c.detaching("run", "-d", "--bundle", c.b.bundle, c.id);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const pid = initPid(c.b, c.id);
    const props = unitProps(c.unit, ["LoadState", "ActiveState", "ControlGroup", "MemoryMax", "TasksMax", "CPUWeight", "Delegate", "Slice"]);
    expect(props).toEqual({ LoadState: "loaded", ActiveState: "active", ControlGroup: `/system.slice/${c.unit}`, MemoryMax: String(64 * MiB), TasksMax: "77", CPUWeight: String(sharesToWeight(512n)), Delegate: "yes", Slice: "system.slice" });
    expect(cgroupOf(pid)).toBe(`/system.slice/${c.unit}`);
    expect(cgroupFile(`/system.slice/${c.unit}`, "cgroup.procs").split("\n")).toContain(String(pid));
    expect(cgroupFile(`/system.slice/${c.unit}`, "memory.max")).toBe(String(64 * MiB));
    expect(cgroupFile(`/system.slice/${c.unit}`, "pids.max")).toBe("77");

    const u = c.cli("update", "--memory", "128M", c.id);
    expect(u.stderr).toBe("");
    expect(u.code).toBe(0);
    expect(unitProps(c.unit, ["MemoryMax"]).MemoryMax).toBe(String(128 * MiB));
    expect(cgroupFile(`/system.slice/${c.unit}`, "memory.max")).toBe(String(128 * MiB));

    const d = c.cli("delete", "--force", c.id);
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(unitLoaded(c.unit)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/system.slice/${c.unit}`)).toBe(false);
  }, TEST_TIMEOUT_MS);

  test("the memory limit is enforced: run exits 137 (OOM), and the unit is gone afterwards", () => {
    const c = bundle(["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"], { memory: { limit: 16 * MiB, swap: 16 * MiB } });
    const r = c.cli("run", "--bundle", c.b.bundle, c.id);
    expect(r.stdout).not.toContain("survived");
    expect(r.code).toBe(137);
    expect(unitLoaded(c.unit)).toBe(false);
  }, TEST_TIMEOUT_MS);

  test("systemctl daemon-reexec while the container runs: it keeps running in its scope, and delete still removes the unit", async () => {
    const c = bundle(["sleep", "1000"], { memory: { limit: 48 * MiB } });
    expect(c.detaching("run", "-d", "--bundle", c.b.bundle, c.id).code).toBe(0);
    const pid = initPid(c.b, c.id);
    expect(run(["systemctl", "daemon-reexec"], { timeoutMs: 120_000 }).code).toBe(0);
    await waitFor("systemd back after the reexec", () => run(["systemctl", "is-active", c.unit]).stdout.trim() === "active", 60_000);
    expect(alive(pid)).toBe(true);
    expect(cgroupOf(pid)).toBe(`/system.slice/${c.unit}`);
    expect(unitProps(c.unit, ["MemoryMax"]).MemoryMax).toBe(String(48 * MiB));
    expect(JSON.parse(c.cli("state", c.id).stdout).status).toBe("running");
    const d = c.cli("delete", "--force", c.id);
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(unitLoaded(c.unit)).toBe(false);
  }, TEST_TIMEOUT_MS);

  test("pause/resume, ps, events and kill --all work on the scope's cgroup", async () => {
    const c = bundle(["sh", "-c", "sleep 1000 & sleep 1000"], {});
    expect(c.detaching("run", "-d", "--bundle", c.b.bundle, c.id).code).toBe(0);
    const pid = initPid(c.b, c.id);
    await waitFor("both processes", () => cgroupFile(`/system.slice/${c.unit}`, "cgroup.procs").split("\n").length >= 2);
    const ps = c.cli("ps", "--format", "json", c.id);
    expect(ps.code).toBe(0);
    expect((JSON.parse(ps.stdout) as number[]).length).toBe(2);
    expect(c.cli("pause", c.id).code).toBe(0);
    expect(cgroupFile(`/system.slice/${c.unit}`, "cgroup.freeze")).toBe("1");
    expect(JSON.parse(c.cli("state", c.id).stdout).status).toBe("paused");
    expect(c.cli("resume", c.id).code).toBe(0);
    expect(cgroupFile(`/system.slice/${c.unit}`, "cgroup.freeze")).toBe("0");
    const ev = c.cli("events", "--stats", c.id);
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.stdout).data.pids.current).toBe(2);
    expect(c.cli("kill", "--all", c.id, "KILL").code).toBe(0);
    await waitFor("the container stopped", () => !alive(pid));
    expect(c.cli("delete", c.id).code).toBe(0);
    expect(unitLoaded(c.unit)).toBe(false);
  }, TEST_TIMEOUT_MS);

  test("the scope is systemd's, under its slice, whoever calls: never under the caller's own cgroup", () => {
    const c = bundle(["sleep", "1000"], {});
    // The caller runs in a scope of its own; the container must not land below it.
    const caller = `bunrunc-caller-${process.pid}`;
    const r = runDetaching(["systemd-run", "--quiet", "--scope", `--unit=${caller}`, BUNRUNC, "--root", c.b.root, "--systemd-cgroup", "run", "-d", "--bundle", c.b.bundle, c.id], { timeoutMs: CALL_TIMEOUT_MS });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const pid = initPid(c.b, c.id);
    expect(cgroupOf(pid)).toBe(`/system.slice/${c.unit}`);
    expect(c.cli("delete", "--force", c.id).code).toBe(0);
    expect(unitLoaded(c.unit)).toBe(false);
    expect(unitLoaded(`${caller}.scope`)).toBe(false);
  }, TEST_TIMEOUT_MS);

  test("delete stops the scope only while it has the InvocationID create recorded: a unit of that name started by someone else since is left alone, with a warning", async () => {
    const c = bundle(["sleep", "1000"], {});
    expect(c.cli("run", "-d", "--bundle", c.b.bundle, c.id).code).toBe(0);
    const pid = initPid(c.b, c.id);
    const recorded = JSON.parse(readFileSync(join(c.b.root, c.id, "state.json"), "utf8")).bunrunc.systemdInvocationId as string;
    expect(recorded).toMatch(/^[0-9a-f]{32}$/);
    expect(unitProps(c.unit, ["InvocationID"]).InvocationID).toBe(recorded);
    // The container's init dies, its emptied scope goes; someone else starts a scope of that name.
    expect(c.cli("kill", c.id, "KILL").code).toBe(0);
    await waitFor("the container stopped", () => !alive(pid));
    await waitFor("its scope gone", () => !unitLoaded(c.unit), 60_000);
    const other = Bun.spawn(["systemd-run", "--quiet", "--scope", `--unit=${c.unit}`, "sleep", "1000"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    try {
      await waitFor("the other scope", () => run(["systemctl", "is-active", c.unit]).stdout.trim() === "active", 60_000);
      const theirs = unitProps(c.unit, ["InvocationID"]).InvocationID;
      expect(theirs).not.toBe(recorded);
      const d = c.cli("delete", c.id);
      expect(d.code).toBe(0);
      expect(d.stderr).toContain(`systemd unit ${c.unit} is no longer the one created for it`);
      expect(existsSync(join(c.b.root, c.id))).toBe(false);
      // Theirs is untouched: the same start of the unit, still running its process.
      expect(run(["systemctl", "is-active", c.unit]).stdout.trim()).toBe("active");
      expect(unitProps(c.unit, ["InvocationID"]).InvocationID).toBe(theirs);
      expect(alive(other.pid)).toBe(true);
    } finally {
      run(["systemctl", "stop", c.unit]);
      other.kill(9);
      await other.exited;
    }
  }, TEST_TIMEOUT_MS);

  test.skipIf(!peerPidfds)(`a delete typed without --systemd-cgroup of a container made with it is not served: it runs directly and stops the unit${peerPidfds ? "" : " [skipped: this kernel lacks SO_PEERPIDFD (Linux 6.5+): no resident server]"}`, async () => {
    const c = bundle(["sleep", "1000"], {});
    expect(c.cli("run", "-d", "--bundle", c.b.bundle, c.id).code).toBe(0);
    const pid = initPid(c.b, c.id);
    // A server is up and serving calls on this root (the first call of a build starts it).
    const plain = (...a: string[]) => run([BUNRUNC, "--debug", "--root", c.b.root, ...a], { timeoutMs: CALL_TIMEOUT_MS });
    await waitFor("the resident server", () => plain("state", "nothing-here").stderr.includes(SERVED), 120_000);
    const d = plain("delete", "--force", c.id);
    expect(d.code).toBe(0);
    expect(d.stderr).toContain("level=debug");
    expect(d.stderr).not.toContain(SERVED);
    expect(alive(pid)).toBe(false);
    expect(unitLoaded(c.unit)).toBe(false);
  }, TEST_TIMEOUT_MS);

  test("a unit name taken by a live container: create fails in one line and leaves nothing", () => {
    const c = bundle(["sleep", "1000"], {});
    expect(c.detaching("run", "-d", "--bundle", c.b.bundle, c.id).code).toBe(0);
    const r = run([BUNRUNC, "--root", c.b.root, "--systemd-cgroup", "create", "--bundle", c.b.bundle, `${c.id}b`], { timeoutMs: CALL_TIMEOUT_MS });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${c.unit} already exists`);
    expect(existsSync(join(c.b.root, `${c.id}b`))).toBe(false);
    // The first container is untouched.
    expect(run(["systemctl", "is-active", c.unit]).stdout.trim()).toBe("active");
    expect(c.cli("delete", "--force", c.id).code).toBe(0);
  }, TEST_TIMEOUT_MS);
});

