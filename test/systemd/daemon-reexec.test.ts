// systemd re-executes itself (`systemctl daemon-reexec`, as a package upgrade does) while a
// container made with --systemd-cgroup runs: the container keeps running in its scope with its
// limits, exec still joins it, and kill + delete remove it, its cgroup and (with a D-Bus driver)
// its unit. runc is the control; bunrunc runs the same steps.
import { afterEach, describe, expect, test } from "bun:test";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { run, runDetaching, runtimes, waitFor, type Runtime } from "../e2e/rig.ts";
import { alive, cgroupFile, cgroupOf, hasSystemdDriver, NEEDS_DRIVER, scopePath, skipTitle, SYSTEMD_SKIP, unitLoaded, unitProps } from "./helpers.ts";

const T = 600_000;
const bundles: TestBundle[] = [];

afterEach(() => {
  for (const b of bundles.splice(0)) b.cleanup();
});

function state(rt: Runtime, root: string, id: string): { status: string; pid: number } | undefined {
  const r = run([rt.path, "--root", root, "state", id]);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}

/**
 * Waits until PID 1 answers on the bus again after the re-exec (`is-system-running` would wait
 * for the boot to finish, which the tier's own oneshot unit holds open).
 */
async function systemdBack(): Promise<void> {
  await waitFor("systemd to answer after daemon-reexec", () => /^Version=\d+/.test(run(["systemctl", "show", "-p", "Version"]).stdout), 120_000);
}

describe.skipIf(SYSTEMD_SKIP !== "")(skipTitle("systemctl daemon-reexec while a --systemd-cgroup container runs"), () => {
  describe.each(runtimes())("with $name", (rt: Runtime) => {
    const driver = hasSystemdDriver(rt);

    test(`the container keeps running in its scope, exec joins it, delete removes it${driver ? "" : ` (unit checks ${NEEDS_DRIVER})`}`, async () => {
      const id = uniqueId(`reexec-${rt.name}`);
      const spec = defaultSpec(["sleep", "1000"]);
      spec.linux = { ...spec.linux, cgroupsPath: `system.slice:sdreexec:${id}`, resources: { ...spec.linux?.resources, memory: { limit: 64 << 20 }, pids: { limit: 50 } } };
      const tb = makeBundle(spec);
      bundles.push(tb);
      const rtArgs = [rt.path, "--root", tb.root, "--systemd-cgroup"];
      const path = scopePath("system.slice", "sdreexec", id);
      const unit = `sdreexec-${id}.scope`;
      try {
        // create leaves the init holding the caller's stdio: pipes would keep the call waiting.
        const c = runDetaching([...rtArgs, "create", "--bundle", tb.bundle, id], { timeoutMs: 120_000 });
        expect(c.stderr).toBe("");
        expect(c.code).toBe(0);
        expect(run([...rtArgs, "start", id], { timeoutMs: 120_000 }).code).toBe(0);
        const pid = state(rt, tb.root, id)!.pid;
        expect(state(rt, tb.root, id)!.status).toBe("running");
        expect(cgroupOf(pid)).toBe(path);
        expect(cgroupFile(path, "memory.max")).toBe(String(64 << 20));
        if (driver) expect(unitProps(unit, ["ActiveState", "MemoryMax", "TasksMax"])).toEqual({ ActiveState: "active", MemoryMax: String(64 << 20), TasksMax: "50" });

        const r = run(["systemctl", "daemon-reexec"], { timeoutMs: 120_000 });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        await systemdBack();

        expect(alive(pid)).toBe(true);
        expect(state(rt, tb.root, id)!.status).toBe("running");
        expect(cgroupOf(pid)).toBe(path);
        expect(cgroupFile(path, "memory.max")).toBe(String(64 << 20));
        expect(cgroupFile(path, "pids.max")).toBe("50");
        if (driver) expect(unitProps(unit, ["ActiveState", "MemoryMax", "TasksMax"])).toEqual({ ActiveState: "active", MemoryMax: String(64 << 20), TasksMax: "50" });
        const x = run([...rtArgs, "exec", id, "sh", "-c", "cat /proc/self/cgroup"], { timeoutMs: 120_000 });
        expect(x.code).toBe(0);

        expect(run([...rtArgs, "kill", id, "KILL"]).code).toBe(0);
        await waitFor("the container to stop", () => state(rt, tb.root, id)?.status === "stopped");
        const d = run([...rtArgs, "delete", id], { timeoutMs: 120_000 });
        expect(d.stderr).toBe("");
        expect(d.code).toBe(0);
        expect(alive(pid)).toBe(false);
        expect(state(rt, tb.root, id)).toBeUndefined();
        expect(cgroupFile(path, "cgroup.procs")).toBe("");
        if (driver) await waitFor(`${unit} to be unloaded after delete`, () => !unitLoaded(unit));
      } finally {
        run([...rtArgs, "delete", "--force", id], { timeoutMs: 120_000 });
      }
    }, T);
  });
});
