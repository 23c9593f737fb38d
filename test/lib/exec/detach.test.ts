// Detached exec as engines drive it: the exact exec lines of containerd's shim and podman/conmon
// (test/fixtures/client-invocations.md), --pid-file, the console socket receiving the pty
// master, and --pidfd-socket receiving a pidfd of the process.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canDrivePtys, canRunContainers, execIn, receiver, runDetached, SKIP, SKIP_PTY, startContainer, until, type Container } from "./helpers.ts";
import { bunruncArgv } from "../../helpers/cli-path.ts";

let c: Container;
beforeAll(async () => {
  if (canRunContainers) c = await startContainer();
});
afterAll(async () => {
  await c?.remove();
});

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

describe.skipIf(!canRunContainers)(`detached exec${SKIP}`, () => {
  test("containerd's line: exec --process F --detach --pid-file P ID", async () => {
    const processFile = join(c.b.dir, "runc-process1");
    writeFileSync(processFile, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ["sleep", "300"], env: ["PATH=/bin"], cwd: "/" }));
    const pidFile = join(c.b.dir, "execid.pid");
    const log = join(c.b.dir, "log.json");
    const r = runDetached([...bunruncArgv(), "--root", c.b.root, "--log", log, "--log-format", "json", "exec", "--process", processFile, "--detach", "--pid-file", pidFile, c.id]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    const text = readFileSync(pidFile, "utf8");
    expect(text).toMatch(/^\d+$/);
    const pid = Number(text);
    try {
      expect(alive(pid)).toBe(true);
      expect(readFileSync(`/proc/${pid}/comm`, "utf8")).toBe("sleep\n");
      expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync(`/proc/${c.pid}/ns/pid`));
      expect(readlinkSync(`/proc/${pid}/ns/mnt`)).toBe(readlinkSync(`/proc/${c.pid}/ns/mnt`));
      // The container sees it among its processes.
      expect(execIn(c, c.id, "sh", "-c", "cat /proc/[0-9]*/comm | grep -c sleep").stdout.trim()).toBe("2");
    } finally {
      killPid(pid);
    }
    await until(() => !alive(pid));
  });

  test("a detached exec that cannot start still fails with 255 and writes no pid file", () => {
    const pidFile = join(c.b.dir, "never.pid");
    const r = execIn(c, "--detach", "--pid-file", pidFile, c.id, "no-such-binary");
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("executable file not found in $PATH");
    expect(existsSync(pidFile)).toBe(false);
  });

  test.skipIf(!canDrivePtys)(`--pidfd-socket receives a pidfd of the exec'd process${SKIP_PTY}`, async () => {
    const sock = join(c.b.dir, "pidfd.sock");
    const pidFile = join(c.b.dir, "pidfd.pid");
    const rcv = await receiver(sock, "pidfd");
    const r = runDetached(c.argv("exec", "--detach", "--pid-file", pidFile, "--pidfd-socket", sock, c.id, "sleep", "300"));
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      expect(await rcv.result).toEqual({ name: "pidfd", pid });
    } finally {
      killPid(pid);
      rmSync(sock, { force: true });
    }
  });

  test.skipIf(!canDrivePtys)(`containerd's tty line: the console socket gets the master and talks to the shell${SKIP_PTY}`, async () => {
    const processFile = join(c.b.dir, "runc-process2");
    writeFileSync(processFile, JSON.stringify({ terminal: true, consoleSize: { height: 40, width: 120 }, user: { uid: 0, gid: 0 }, args: ["sh"], env: ["PATH=/bin"], cwd: "/" }));
    const sock = join(c.b.dir, "pty.sock");
    const rcv = await receiver(sock, "console", [
      { send: "tty; stty size; echo $((40+2))\r" },
      { expect: "/dev/pts/\\d+" },
      { expect: "40 120" },
      { expect: "42" },
      { send: "exit\r" },
      { eof: true },
    ]);
    const pidFile = join(c.b.dir, "tty.pid");
    const r = runDetached([...bunruncArgv(), "--root", c.b.root, "--log", join(c.b.dir, "log.json"), "--log-format", "json", "exec", "--process", processFile, "--console-socket", sock, "--detach", "--pid-file", pidFile, c.id]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    const got = await rcv.result;
    rmSync(sock, { force: true });
    expect(got.ok).toBe(true);
    expect(got.name).toMatch(/^\/dev\/pts\/\d+$/);
  });

  test.skipIf(!canDrivePtys)(`podman/conmon's two exec lines, byte for byte, against the default root (private /run)${SKIP_PTY}`, () => {
    const r = runDetached(["unshare", "-m", "--propagation", "private", process.execPath, join(import.meta.dir, "podman-lines.ts")]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as Record<string, any>;
    expect(out.error).toBeUndefined();
    expect(out.create).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(out.start).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(out.exec).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(out.execPidFile).toMatch(/^\d+$/);
    expect(out.execSeesInitNs).toBe(true);
    expect(out.execComm).toBe("sleep");
    expect(out.execTty).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(out.conmon.ok).toBe(true);
    expect(out.ociLog).toBe("");
    expect(out.delete).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(out.leftovers).toEqual([]);
    // A Bun process making five runtime calls and a terminal session: ~2 s alone, more than bun
    // test's default 5 s on a loaded machine, whose timeout kills it mid-way (nothing printed).
  }, 30_000);
});
