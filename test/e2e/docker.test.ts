// Docker (Debian docker.io 20.10) driving each runtime registered with `--add-runtime NAME=PATH`,
// hermetic: a dockerd started here with private --data-root/--exec-root/socket/pidfile, an empty
// daemon.json, vfs storage, no networking changes to the host, a private --cgroup-parent, and the
// image loaded from a local archive. /usr/bin/docker is used on purpose: a newer client elsewhere
// on PATH may come first.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { DOCKER, PrivateDockerd } from "./docker-rig.ts";
import { ensurePackages, removeCgroupTree, removeTempDir, runPty, runtimes, tempDir, uniqueName, type Result, type Runtime } from "./rig.ts";

const skip = ensurePackages([
  { cmd: "dockerd", pkg: "docker.io" },
  { cmd: "containerd", pkg: "containerd" },
  { cmd: "docker-init", pkg: "tini" },
]);
const T = 120_000;
const cgroupParent = uniqueName("bunrunc-e2e-docker-");
// Engine-side names; Docker reserves "runc" for its built-in entry.
const engineName = (rt: Runtime) => `e2e-${rt.name}`;

let dir = "";
let dockerd: PrivateDockerd | undefined;

const docker = (args: string[], timeoutMs?: number): Result => dockerd!.docker(args, timeoutMs);

describe.skipIf(skip !== "")(`docker e2e${skip ? ` (skipped: ${skip})` : ""}`, () => {
  beforeAll(async () => {
    dir = tempDir("bunrunc-e2e-docker-");
    dockerd = new PrivateDockerd(dir, 30_000);
    await dockerd.start({ config: {}, flags: ["--cgroup-parent", `/${cgroupParent}`], runtimes: runtimes(), name: engineName, boundMs: 60_000 });
  }, T);

  afterAll(async () => {
    await dockerd?.stop(20_000, 10_000);
    const left = await removeCgroupTree(cgroupParent);
    removeTempDir(dir);
    expect(left).toEqual([]);
  }, T);

  describe.each(runtimes())("with $name", (rt: Runtime) => {
    const base = () => ["--runtime", engineName(rt), "--network", "none"];
    const runArgs = (...args: string[]) => ["run", ...base(), ...args];
    const detached = (...cmd: string[]) => docker(runArgs("-d", IMAGE_TAG, ...cmd)).stdout.trim();

    test("run --rm prints output and passes exit codes 0 and 42", () => {
      const r = docker(runArgs("--rm", IMAGE_TAG, "sh", "-c", "echo hello"));
      expect(r.stdout).toBe("hello\n");
      expect(r.code).toBe(0);
      expect(docker(runArgs("--rm", IMAGE_TAG, "sh", "-c", "exit 42")).code).toBe(42);
    }, T);

    test("exit 126 (not executable) and 127 (missing command, with the runtime's message)", () => {
      expect(docker(runArgs("--rm", IMAGE_TAG, "/notexec")).code).toBe(126);
      const missing = docker(runArgs("--rm", IMAGE_TAG, "nosuchcmd"));
      expect(missing.code).toBe(127);
      expect(missing.stderr).toContain("nosuchcmd");
    }, T);

    test("run -d, exec with -u -w -e, exec -t, top", () => {
      const id = detached("sleep", "1000");
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const e = docker(["exec", "-u", "1000", "-w", "/tmp", "-e", "FOO=bar", id, "sh", "-c", "echo $(id -u) $(pwd) $FOO"]);
      expect(e.stdout).toBe("1000 /tmp bar\n");
      expect(docker(["exec", id, "sh", "-c", "exit 3"]).code).toBe(3);
      const t = runPty([DOCKER, "exec", "-t", id, "sh", "-c", "tty; exit 4"], { env: { DOCKER_HOST: `unix://${dir}/docker.sock` } });
      expect(t.stdout).toMatch(/^\/dev\/pts\/\d+\n$/);
      expect(t.code).toBe(4);
      const top = docker(["top", id]);
      expect(top.code).toBe(0);
      expect(top.stdout).toContain("sleep 1000");
      expect(docker(["rm", "-f", id]).code).toBe(0);
    }, T);

    test("pause/unpause, update --memory, kill -s USR1, stop, rm -f", () => {
      const id = detached("sh", "-c", "trap 'exit 7' USR1; while :; do sleep 0.1; done");
      expect(docker(["pause", id]).code).toBe(0);
      expect(docker(["inspect", "-f", "{{.State.Status}}", id]).stdout.trim()).toBe("paused");
      expect(docker(["unpause", id]).code).toBe(0);
      expect(docker(["inspect", "-f", "{{.State.Status}}", id]).stdout.trim()).toBe("running");
      expect(docker(["update", "--memory", "32m", "--memory-swap", "32m", id]).code).toBe(0);
      expect(docker(["exec", id, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]).stdout.trim()).toBe(String(32 * 1024 * 1024));
      expect(docker(["kill", "-s", "USR1", id]).code).toBe(0);
      expect(docker(["wait", id]).stdout.trim()).toBe("7");
      const id2 = detached("sh", "-c", "trap 'exit 5' TERM; while :; do sleep 0.1; done");
      expect(docker(["stop", "-t", "10", id2]).code).toBe(0);
      expect(docker(["inspect", "-f", "{{.State.ExitCode}}", id2]).stdout.trim()).toBe("5");
      const id3 = detached("sleep", "1000");
      expect(docker(["rm", "-f", id, id2, id3]).code).toBe(0);
      expect(docker(["ps", "-aq"]).stdout).toBe("");
    }, T);

    test("run -t under a pty", () => {
      const r = runPty([DOCKER, ...runArgs("--rm", "-t", IMAGE_TAG, "sh", "-c", "tty; exit 6")], { env: { DOCKER_HOST: `unix://${dir}/docker.sock` } });
      expect(r.stdout).toBe("/dev/pts/0\n");
      expect(r.code).toBe(6);
    }, T);

    test("--read-only, --cap-drop ALL, --pids-limit, --init", () => {
      const ro = docker(runArgs("--rm", "--read-only", IMAGE_TAG, "touch", "/x"));
      expect(ro.code).toBe(1);
      expect(ro.stderr).toContain("Read-only file system");
      const caps = docker(runArgs("--rm", "--cap-drop", "ALL", IMAGE_TAG, "grep", "^Cap", "/proc/self/status"));
      expect(caps.stdout).toBe(["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"].map((c) => `${c}:\t0000000000000000\n`).join(""));
      expect(docker(runArgs("--rm", "--pids-limit", "10", IMAGE_TAG, "cat", "/sys/fs/cgroup/pids/pids.max")).stdout.trim()).toBe("10");
      const init = docker(runArgs("--rm", "--init", IMAGE_TAG, "cat", "/proc/1/cmdline"));
      expect(init.stdout.split("\0")[0]).toBe("/sbin/docker-init");
      expect(init.code).toBe(0);
    }, T);

    test("--memory: the OOM killer ends it, OOMKilled true, exit 137", () => {
      const name = uniqueName("oom");
      const r = docker(runArgs("--name", name, "--memory", "16m", "--memory-swap", "16m", IMAGE_TAG, "tail", "/dev/zero"), 60_000);
      expect(r.code).toBe(137);
      expect(docker(["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", name]).stdout.trim()).toBe("true 137");
      expect(docker(["rm", name]).code).toBe(0);
    }, T);
  });
});
