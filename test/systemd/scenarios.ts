// One scenario list for every engine in its systemd configuration, run for each runtime (runc as
// the control, then bunrunc): run, exec, stop, pause, OOM, rm, and where the container's cgroup
// is (the scope systemd's driver makes). An engine file supplies an EngineRow per runtime.
// Expectations about the scope *unit* (systemctl show) hold for a runtime with a systemd D-Bus
// driver only: for bunrunc they are skipped, saying so, until `features` reports systemd true.
import { expect, test } from "bun:test";
import { run, waitFor, type Result, type Runtime } from "../e2e/rig.ts";
import { alive, catches, cgroupFile, cgroupOf, hasSystemdDriver, NEEDS_DRIVER, unitLoaded, unitProps } from "./helpers.ts";

export type Status = "running" | "paused" | "exited" | "";

/** What the scenarios need from an engine, for one runtime. */
export interface EngineRow {
  /** Foreground run that removes the container afterwards: its output and exit status. */
  runRm(cmd: string[]): Result;
  /** A detached container (optionally with a memory limit, MiB); its id, as the scope names it. */
  start(cmd: string[], opts?: { memoryMiB?: number }): string;
  pid(id: string): number;
  exec(id: string, cmd: string[]): Result;
  /** Stops with SIGTERM (a 10 s grace before SIGKILL); the container's exit status. */
  stop(id: string): number | Promise<number>;
  pause(id: string): boolean;
  resume(id: string): boolean;
  status(id: string): Status;
  /** Removes a stopped container (its task, its record); whether the engine said it did. */
  remove(id: string): boolean;
  /** Force-removes a container in any state (cleanup after a failed expectation). */
  forceRemove(id: string): void;
  /** A foreground run under a memory limit that the command exceeds: status, and whether the engine saw an OOM kill (undefined when it does not report it). */
  oom(memoryMiB: number, cmd: string[]): { code: number; oomKilled?: boolean };
  /** The scope's cgroup path ("/machine.slice/libpod-ID.scope") and unit name. */
  scope(id: string): { path: string; unit: string };
}

/** Per test: under TCG on a shared 2-core host a bunrunc call is a Bun start of seconds. */
const T = 600_000;
const TERM_EXITS_5 = ["sh", "-c", "trap 'exit 5' TERM; while :; do sleep 0.1; done"];

/** Registers the scenarios for one engine and runtime (call inside a describe). */
export function engineScenarios(rt: Runtime, row: () => EngineRow): void {
  const driver = hasSystemdDriver(rt);
  const unitTest = driver ? test : test.skip;
  const unitTitle = (t: string) => (driver ? t : `${t} ${NEEDS_DRIVER}`);
  const withContainer = (id: string, body: () => void) => {
    try {
      body();
    } finally {
      row().forceRemove(id);
    }
  };

  test("run --rm: output and exit status", () => {
    const r = row().runRm(["sh", "-c", "echo hello; exit 42"]);
    expect(r.stdout).toBe("hello\n");
    expect(r.code).toBe(42);
  }, T);

  test("run -d: the init is in the scope systemd's driver names, with the memory limit; exec; pause and resume freeze and thaw the scope", () => {
    const e = row();
    const id = e.start(["sleep", "1000"], { memoryMiB: 64 });
    withContainer(id, () => {
      const pid = e.pid(id);
      expect(pid).toBeGreaterThan(0);
      const { path } = e.scope(id);
      expect(cgroupOf(pid)).toBe(path);
      expect(cgroupFile(path, "memory.max")).toBe(String(64 << 20));
      const x = e.exec(id, ["sh", "-c", "echo $((6*7)); exit 3"]);
      expect(x.stdout).toBe("42\n");
      expect(x.code).toBe(3);
      expect(e.pause(id)).toBe(true);
      expect(e.status(id)).toBe("paused");
      expect(cgroupFile(path, "cgroup.events")).toContain("frozen 1");
      expect(e.resume(id)).toBe(true);
      expect(e.status(id)).toBe("running");
      expect(cgroupFile(path, "cgroup.events")).toContain("frozen 0");
      expect(e.exec(id, ["true"]).code).toBe(0);
    });
  }, T);

  unitTest(unitTitle("the scope is a systemd unit: active, delegated, holds the init, MemoryMax from the config; gone after rm"), async () => {
    const e = row();
    const id = e.start(["sleep", "1000"], { memoryMiB: 64 });
    const { path, unit } = e.scope(id);
    withContainer(id, () => {
      expect(unitProps(unit, ["ActiveState", "ControlGroup", "MemoryMax", "Delegate"])).toEqual({ ActiveState: "active", ControlGroup: path, MemoryMax: String(64 << 20), Delegate: "yes" });
      // systemd's own answer to "whose is this process" (GetUnitByPID, by cgroup).
      expect(run(["systemctl", "status", "--no-pager", String(e.pid(id))]).stdout.split("\n")[0]).toContain(unit);
    });
    await waitFor(`${unit} to be unloaded after rm`, () => !unitLoaded(unit));
  }, T);

  test("stop: SIGTERM reaches the process (exit 5); rm removes the container and its cgroup", async () => {
    const e = row();
    const id = e.start(TERM_EXITS_5);
    try {
      const pid = e.pid(id);
      const { path } = e.scope(id);
      expect(e.status(id)).toBe("running");
      // The shell is the container's PID 1: a SIGTERM before its trap is set would be ignored.
      await waitFor("the container's shell to catch SIGTERM", () => catches(pid, 15));
      expect(await e.stop(id)).toBe(5);
      expect(alive(pid)).toBe(false);
      expect(e.status(id)).toBe("exited");
      expect(e.remove(id)).toBe(true);
      expect(e.status(id)).toBe("");
      expect(cgroupFile(path, "cgroup.procs")).toBe("");
    } finally {
      e.forceRemove(id);
    }
  }, T);

  test("OOM: a process past its memory limit is killed, exit 137", () => {
    const r = row().oom(16, ["tail", "/dev/zero"]);
    expect(r.code).toBe(137);
    if (r.oomKilled !== undefined) expect(r.oomKilled).toBe(true);
  }, T);
}

