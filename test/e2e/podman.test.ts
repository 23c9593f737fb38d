// podman (Debian 4.3 + conmon) driving each runtime through `--runtime PATH`, hermetic: private
// containers.conf / storage.conf / registries.conf, vfs storage and runtime --root under a temp
// dir, cgroups under a private parent, the image loaded from a local archive.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { ensurePackages, killMentioning, runPodman, removeCgroupTree, removeTempDir, run, runPty, runtimes, setupPodman, tempDir, uniqueName, type Runtime } from "./rig.ts";

const skip = ensurePackages([
  { cmd: "podman", pkg: "podman" },
  { cmd: "conmon", pkg: "conmon" },
]);
const T = 120_000;

let dir = "";
let env: Record<string, string> = {};
const cgroupParent = uniqueName("bunrunc-e2e-podman-");

const podmanFor = (rt: Runtime) => (args: string[], timeoutMs = 30_000) => runPodman(dir, env, rt, args, timeoutMs);

describe.skipIf(skip !== "")(`podman e2e${skip ? ` (skipped: ${skip})` : ""}`, () => {
  beforeAll(() => {
    dir = tempDir("bunrunc-e2e-podman-");
    env = setupPodman(dir, { ulimits: true });
  });

  afterAll(async () => {
    if (dir) {
      for (const rt of runtimes()) podmanFor(rt)(["rm", "-af", "-t", "0"]);
      run(["podman", "rmi", "-af"], { env });
    }
    if (dir) await killMentioning(dir); // conmon of a container whose runtime hung
    const left = await removeCgroupTree(cgroupParent);
    removeTempDir(dir);
    expect(left).toEqual([]);
  });

  describe.each(runtimes())("with $name", (rt) => {
    const podman = podmanFor(rt);
    const cg = ["--cgroup-parent", `/${cgroupParent}`];
    const runArgs = (...args: string[]) => ["run", ...cg, ...args];

    test("run --rm prints output, exits 0 and leaves no container", () => {
      const name = uniqueName("rm");
      const r = podman(runArgs("--rm", "--name", name, IMAGE_TAG, "sh", "-c", "echo hello from $(hostname)"));
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^hello from \w+\n$/);
      expect(r.code).toBe(0);
      expect(podman(["ps", "-aq", "--filter", `name=${name}`]).stdout).toBe("");
    }, T);

    test("exit codes 42, 126 (not executable), 127 (missing command with the runtime's message)", () => {
      expect(podman(runArgs("--rm", IMAGE_TAG, "sh", "-c", "exit 42")).code).toBe(42);
      expect(podman(runArgs("--rm", IMAGE_TAG, "/notexec")).code).toBe(126);
      const missing = podman(runArgs("--rm", IMAGE_TAG, "nosuchcmd"));
      expect(missing.code).toBe(127);
      expect(missing.stderr).toContain("nosuchcmd");
      expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    }, T);

    test("run -d, stop delivers SIGTERM, rm removes it", () => {
      const id = podman(runArgs("-d", IMAGE_TAG, "sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.1; done")).stdout.trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      expect(podman(["inspect", "-f", "{{.State.Status}}", id]).stdout.trim()).toBe("running");
      expect(podman(["stop", "-t", "10", id]).code).toBe(0);
      expect(podman(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id]).stdout.trim()).toBe("exited 3");
      expect(podman(["rm", id]).code).toBe(0);
      expect(podman(["ps", "-aq", "--filter", `id=${id}`]).stdout).toBe("");
    }, T);

    test("exec, exec -t and run -t under a pty", () => {
      const id = podman(runArgs("-d", IMAGE_TAG, "sleep", "1000")).stdout.trim();
      const e = podman(["exec", id, "sh", "-c", "echo $((6*7)) $(id -u) $(pwd)"]);
      expect(e.stdout).toBe("42 0 /\n");
      expect(podman(["exec", id, "sh", "-c", "exit 5"]).code).toBe(5);
      const t = runPty(["podman", "--runtime", rt.path, "--runtime-flag", `root=${dir}/state-${rt.name}`, "exec", "-t", id, "sh", "-c", "tty; echo $TERM"], { env });
      expect(t.stdout).toMatch(/^\/dev\/pts\/\d+\nxterm\n$/);
      expect(t.code).toBe(0);
      expect(podman(["rm", "-f", "-t", "0", id]).code).toBe(0);
      const r = runPty(["podman", "--runtime", rt.path, "--runtime-flag", `root=${dir}/state-${rt.name}`, ...runArgs("--rm", "-t", IMAGE_TAG, "sh", "-c", "tty; exit 4")], { env });
      expect(r.stdout).toMatch(/^\/dev\/pts\/0\n$/);
      expect(r.code).toBe(4);
    }, T);

    test("pause freezes, unpause thaws", () => {
      const id = podman(runArgs("-d", IMAGE_TAG, "sleep", "1000")).stdout.trim();
      expect(podman(["pause", id]).code).toBe(0);
      expect(podman(["inspect", "-f", "{{.State.Status}}", id]).stdout.trim()).toBe("paused");
      expect(podman(["unpause", id]).code).toBe(0);
      expect(podman(["inspect", "-f", "{{.State.Status}}", id]).stdout.trim()).toBe("running");
      expect(podman(["exec", id, "true"]).code).toBe(0);
      expect(podman(["rm", "-f", "-t", "0", id]).code).toBe(0);
    }, T);

    test("kill -s USR1 reaches the process; kill (SIGKILL) gives exit 137", () => {
      const id = podman(runArgs("-d", IMAGE_TAG, "sh", "-c", "trap 'exit 7' USR1; while :; do sleep 0.1; done")).stdout.trim();
      expect(podman(["kill", "-s", "USR1", id]).code).toBe(0);
      expect(podman(["wait", id]).stdout.trim()).toBe("7");
      const id2 = podman(runArgs("-d", IMAGE_TAG, "sleep", "1000")).stdout.trim();
      expect(podman(["kill", id2]).code).toBe(0);
      expect(podman(["wait", id2]).stdout.trim()).toBe("137");
      expect(podman(["rm", id, id2]).code).toBe(0);
    }, T);

    test("--memory sets the memory cgroup limit", () => {
      const r = podman(runArgs("--rm", "--memory", "64m", IMAGE_TAG, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"));
      expect(r.stdout.trim()).toBe(String(64 * 1024 * 1024));
      expect(r.code).toBe(0);
    }, T);
  });
});
