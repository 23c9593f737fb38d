// containerd 1.6 (Debian) + containerd-shim-runc-v2 driving each runtime through
// `ctr run --runc-binary PATH`, hermetic: a private containerd (root, state, sockets under a temp
// dir, CRI plugin disabled), the native snapshotter (no overlay mounts to leak), a private
// namespace so cgroups land under /<namespace>/<id>, and the runtime's --root in the temp dir.
// ctr 1.6 has no `update` verb: Docker's `update --memory` covers the shim's update path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { CONTAINERD_PACKAGES, CTR_ENV as env, PrivateContainerd } from "./containerd-rig.ts";
import { ensurePackages, removeCgroupTree, removeTempDir, run, runPty, runtimes, tempDir, uniqueName, type Result, type Runtime } from "./rig.ts";

const skip = ensurePackages(CONTAINERD_PACKAGES);
const T = 120_000;
const ns = uniqueName("bunrunc-e2e-ctr-");

let dir = "";
let containerd: PrivateContainerd | undefined;

const ctr = (args: string[], timeoutMs?: number): Result => containerd!.ctr(args, timeoutMs);
const ctrArgv = (args: string[]): string[] => containerd!.argv(args);

function memoryLimit(id: string): string {
  return readFileSync(`/sys/fs/cgroup/memory/${ns}/${id}/memory.limit_in_bytes`, "utf8").trim();
}

/** The task's status column from `ctr task ls` ("RUNNING", "PAUSED", "STOPPED"), "" when absent. */
function taskStatus(id: string): string {
  const line = ctr(["task", "ls"]).stdout.split("\n").find((l) => l.split(/\s+/)[0] === id);
  return line?.split(/\s+/)[2] ?? "";
}

function removeTask(id: string): void {
  ctr(["task", "kill", "-s", "SIGKILL", id]);
  for (let i = 0; i < 50 && taskStatus(id) !== "STOPPED" && taskStatus(id) !== ""; i++) Bun.sleepSync(50);
  ctr(["task", "rm", "-f", id]);
  ctr(["container", "rm", id]);
}

describe.skipIf(skip !== "")(`containerd e2e${skip ? ` (skipped: ${skip})` : ""}`, () => {
  beforeAll(async () => {
    dir = tempDir("bunrunc-e2e-ctr-");
    containerd = new PrivateContainerd(dir, ns, 30_000);
    await containerd.start(60_000);
  }, T);

  afterAll(async () => {
    await containerd?.stop(removeTask);
    const left = await removeCgroupTree(ns);
    removeTempDir(dir);
    expect(left).toEqual([]);
  }, T);

  describe.each(runtimes())("with $name", (rt: Runtime) => {
    const runtime = () => ["--runc-binary", rt.path, "--runc-root", join(dir, `runc-${rt.name}`)];
    const id = (what: string) => uniqueName(`${rt.name}-${what}-`);

    test("run --rm prints output and passes the exit code", () => {
      const r = ctr(["run", "--rm", ...runtime(), IMAGE_TAG, id("rm"), "sh", "-c", "echo hello; exit 42"]);
      expect(r.stdout).toBe("hello\n");
      expect(r.code).toBe(42);
      expect(ctr(["run", "--rm", ...runtime(), IMAGE_TAG, id("ok"), "true"]).code).toBe(0);
    }, T);

    test("run -d, task exec, task ps, kill", () => {
      const c = id("d");
      expect(ctr(["run", "-d", ...runtime(), IMAGE_TAG, c, "sh", "-c", "trap 'exit 7' USR1; while :; do sleep 0.1; done"]).code).toBe(0);
      expect(taskStatus(c)).toBe("RUNNING");
      const e = ctr(["task", "exec", "--exec-id", "e1", c, "sh", "-c", "echo $((6*7)); exit 3"]);
      expect(e.stdout).toBe("42\n");
      expect(e.code).toBe(3);
      const ps = ctr(["task", "ps", c]);
      expect(ps.code).toBe(0);
      expect(ps.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(2); // header + the init
      expect(ctr(["task", "kill", "-s", "SIGUSR1", c]).code).toBe(0);
      const w = run(["sh", "-c", 'for i in $(seq 100); do "$@" | grep -q STOPPED && exit 0; sleep 0.05; done; exit 1', "sh", ...ctrArgv(["task", "ls"])]);
      expect(w.code).toBe(0);
      removeTask(c);
    }, T);

    test("kill --all (CRI's sandbox stop) reaches every process in the container", () => {
      const c = id("all");
      expect(ctr(["run", "-d", ...runtime(), IMAGE_TAG, c, "sh", "-c", "sleep 1000 & sleep 1000 & wait"]).code).toBe(0);
      expect(ctr(["task", "exec", "--exec-id", "x", c, "sh", "-c", "for i in $(seq 40); do n=$(ps -o comm | grep -c '^sleep$'); [ $n = 2 ] && break; sleep 0.05; done; echo $n"]).stdout.trim()).toBe("2");
      expect(ctr(["task", "kill", "--all", "-s", "SIGKILL", c]).code).toBe(0);
      const w = run(["sh", "-c", 'for i in $(seq 100); do "$@" | grep -q STOPPED && exit 0; sleep 0.05; done; exit 1', "sh", ...ctrArgv(["task", "ls"])]);
      expect(w.code).toBe(0);
      removeTask(c);
    }, T);

    test("task exec -t and run -t under a pty", () => {
      const c = id("t");
      expect(ctr(["run", "-d", ...runtime(), IMAGE_TAG, c, "sleep", "1000"]).code).toBe(0);
      const e = runPty(ctrArgv(["task", "exec", "-t", "--exec-id", "t1", c, "sh", "-c", "tty; exit 4"]), { env });
      expect(e.stdout).toMatch(/\/dev\/pts\/\d+\n/);
      expect(e.code).toBe(4);
      removeTask(c);
      const r = runPty(ctrArgv(["run", "--rm", "-t", ...runtime(), IMAGE_TAG, id("rt"), "tty"]), { env });
      expect(r.stdout).toContain("/dev/pts/0\n");
      expect(r.code).toBe(0);
    }, T);

    test("pause and resume", () => {
      const c = id("p");
      expect(ctr(["run", "-d", ...runtime(), IMAGE_TAG, c, "sleep", "1000"]).code).toBe(0);
      expect(ctr(["task", "pause", c]).code).toBe(0);
      expect(taskStatus(c)).toBe("PAUSED");
      expect(readFileSync(`/sys/fs/cgroup/freezer/${ns}/${c}/freezer.state`, "utf8").trim()).toBe("FROZEN");
      expect(ctr(["task", "resume", c]).code).toBe(0);
      expect(taskStatus(c)).toBe("RUNNING");
      expect(ctr(["task", "exec", "--exec-id", "x", c, "true"]).code).toBe(0);
      removeTask(c);
    }, T);

    test("--memory-limit sets the memory cgroup limit", () => {
      const c = id("m");
      expect(ctr(["run", "-d", "--memory-limit", String(64 * 1024 * 1024), ...runtime(), IMAGE_TAG, c, "sleep", "1000"]).code).toBe(0);
      expect(memoryLimit(c)).toBe(String(64 * 1024 * 1024));
      removeTask(c);
    }, T);
  });
});
