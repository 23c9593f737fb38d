// Rootless with a delegated cgroup v2 subtree (what systemd's user manager gives a user; here a
// directory root makes and chowns as systemd does: the directory, its cgroup.procs,
// cgroup.subtree_control and cgroup.threads). The user's bunrunc runs in a leaf of it, so the
// container's cgroup goes beside that leaf, inside the delegation: limits apply (a memory limit
// OOM-kills: 137), pause/resume freeze it, update changes it, delete removes it.
// Runs where /sys/fs/cgroup is cgroup v2: the VM tier (test/vm/cgroup-v2.test.ts) on a v1 host.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestUser, SKIP_REASON, userBundle, type RunOptions, type TestUser } from "./user.ts";

// Under TCG (the VM tier) each call as the user is an emulated Bun start of several seconds.
setDefaultTimeout(300_000);
const CGROUP2_SUPER_MAGIC = 0x63677270;
const v2 = (() => {
  try {
    return statfsSync("/sys/fs/cgroup").type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
})();
const skip = SKIP_REASON || (v2 ? "" : "this host's /sys/fs/cgroup is not cgroup v2 (the cgroup v2 VM tier runs it)");
const suite = skip ? describe.skip : describe;
const MiB = 1024 * 1024;

suite(`rootless in a delegated cgroup v2 subtree${skip ? ` [skipped: ${skip}]` : ""}`, () => {
  let user: TestUser;
  let bundle: string;
  const delegated = `/sys/fs/cgroup/bunrunc-rootless-${process.pid}`;
  const leaf = join(delegated, "shell");
  const as: RunOptions = { cgroup: leaf };
  let specText: string;

  beforeAll(() => {
    user = makeTestUser();
    ({ bundle } = userBundle(user));
    mkdirSync(delegated);
    // The controllers the container wants must reach the delegated directory's children.
    writeFileSync(join(delegated, "cgroup.subtree_control"), "+memory +pids");
    mkdirSync(leaf);
    for (const f of ["", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"]) chownSync(join(delegated, f), user.uid, user.gid);
    for (const f of ["", "cgroup.procs", "cgroup.threads"]) chownSync(join(leaf, f), user.uid, user.gid);
    expect(user.bunrunc(["spec", "--rootless"], { ...as, cwd: bundle }).code).toBe(0);
    specText = readFileSync(join(bundle, "config.json"), "utf8");
  });

  afterAll(() => {
    user?.remove();
    // Children first; each is empty once the user's processes are gone.
    for (const d of existsSync(delegated) ? readdirSync(delegated, { withFileTypes: true }) : []) {
      if (d.isDirectory()) {
        try {
          rmdirSync(join(delegated, d.name));
        } catch {}
      }
    }
    try {
      rmdirSync(delegated);
    } catch {}
  });

  function config(args: string[], resources?: Record<string, unknown>): void {
    const c = JSON.parse(specText);
    c.process.terminal = false;
    c.process.args = args;
    if (resources) c.linux.resources = resources;
    writeFileSync(join(bundle, "config.json"), JSON.stringify(c, null, 2));
    user.give(join(bundle, "config.json"));
  }

  test("a memory limit is enforced rootless: the process over it is OOM-killed, run exits 137", () => {
    config(["sh", "-c", "x=$(busybox head -c 200000000 /dev/zero | busybox tr '\\0' a); echo survived"], { memory: { limit: 16 * MiB, swap: 16 * MiB } });
    const r = user.bunrunc(["run", `oom-${process.pid}`], { ...as, cwd: bundle });
    expect(r.stdout).not.toContain("survived");
    expect(r.code).toBe(137);
    expect(existsSync(join(delegated, `oom-${process.pid}`))).toBe(false);
  });

  test("the container's cgroup is made in the delegation with its limits; exec joins it; pause, resume, update and delete work there", () => {
    config(["sleep", "600"], { memory: { limit: 64 * MiB }, pids: { limit: 50 } });
    const id = `limits-${process.pid}`;
    expect(user.bunrunc(["run", "-d", id], { ...as, cwd: bundle })).toMatchObject({ code: 0, stderr: "" });
    const dir = join(delegated, id);
    const state = JSON.parse(user.bunrunc(["state", id], as).stdout);
    expect(readFileSync(join(dir, "cgroup.procs"), "utf8").trim()).toBe(String(state.pid));
    expect(readFileSync(join(dir, "memory.max"), "utf8").trim()).toBe(String(64 * MiB));
    expect(readFileSync(join(dir, "pids.max"), "utf8").trim()).toBe("50");

    expect(user.bunrunc(["pause", id], as)).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(user.bunrunc(["state", id], as).stdout).status).toBe("paused");
    expect(user.bunrunc(["resume", id], as)).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(user.bunrunc(["state", id], as).stdout).status).toBe("running");

    expect(user.bunrunc(["update", "--memory", "48M", "--pids-limit", "40", id], as)).toMatchObject({ code: 0, stderr: "" });
    expect(readFileSync(join(dir, "memory.max"), "utf8").trim()).toBe(String(48 * MiB));
    expect(readFileSync(join(dir, "pids.max"), "utf8").trim()).toBe("40");

    // An exec'd process joins the container's cgroup too (its writes stay inside the delegation).
    const ex = user.bunrunc(["exec", id, "cat", "/proc/self/cgroup"], as);
    expect([ex.code, ex.stdout.trim()]).toEqual([0, `0::${dir.slice("/sys/fs/cgroup".length)}`]);
    expect(JSON.parse(user.bunrunc(["ps", "--format", "json", id], as).stdout)).toEqual([state.pid]);
    expect(user.bunrunc(["delete", "-f", id], as)).toMatchObject({ code: 0, stderr: "" });
    expect(existsSync(dir)).toBe(false);
  });
});
