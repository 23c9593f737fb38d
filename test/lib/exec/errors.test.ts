// exec failures: 255 and one line naming the binary and the cause (the texts podman maps to 127
// and 126), wrong container states, bad flags; and nothing left behind in the container.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as bunrunc from "../../../src/lib/index.ts";
import { canRunContainers, execIn, run, SKIP, startContainer, until, type Container } from "./helpers.ts";

let c: Container;
beforeAll(async () => {
  if (canRunContainers) {
    c = await startContainer();
    writeFileSync(join(c.b.rootfs, "not-executable"), "#!/bin/sh\necho no\n", { mode: 0o644 });
    writeFileSync(join(c.b.rootfs, "bad-interpreter"), "#!/nonexistent/sh\necho no\n", { mode: 0o755 });
  }
});
afterAll(async () => {
  await c?.remove();
});

function fails(flagsAndArgs: string[], ...texts: string[]): void {
  const r = execIn(c, ...flagsAndArgs);
  expect(r.code).toBe(255);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trim().split("\n");
  expect(lines.length).toBe(1);
  // The text log is logfmt (msg="..." with Go's quoting): compare the message itself.
  const quoted = /msg=("(?:[^"\\]|\\.)*")/.exec(lines[0]!)?.[1];
  const message = quoted ? (JSON.parse(quoted) as string) : lines[0]!;
  for (const t of texts) expect(message).toContain(t);
}

/** Processes in the container besides its init (an exec that failed must leave none). */
function extraProcesses(): string {
  const r = execIn(c, c.id, "sh", "-c", "for p in /proc/[0-9]*; do [ $p = /proc/1 ] || [ $p = /proc/$$ ] || [ $p = /proc/self ] || cat $p/comm; done");
  return r.stdout;
}

describe.skipIf(!canRunContainers)(`exec errors${SKIP}`, () => {
  test("a command not on PATH: 255, 'executable file not found in $PATH', naming it", () => {
    fails([c.id, "no-such-command", "arg"], "exec failed", '"no-such-command"', "executable file not found in $PATH");
  });

  test("a missing absolute path: 'no such file or directory'", () => {
    fails([c.id, "/bin/nope"], '"/bin/nope"', "no such file or directory");
  });

  test("a file without x permission: 'permission denied'; a directory too", () => {
    fails([c.id, "/not-executable"], '"/not-executable"', "permission denied");
    fails([c.id, "/etc"], '"/etc"');
  });

  test("a script whose interpreter is missing names the interpreter", () => {
    fails([c.id, "/bad-interpreter"], "/nonexistent/sh", "no such file or directory");
  });

  test("a missing cwd names it", () => {
    fails(["--cwd", "/no/such/dir", c.id, "true"], "/no/such/dir", "no such file or directory");
  });

  test("failed execs leave no process behind", () => {
    expect(extraProcesses()).toBe("");
  });

  test("bad flag values: one line, 255", () => {
    fails(["--user", "root", c.id, "true"], "--user", "uid must be a number");
    fails(["--user", "1:x", c.id, "true"], "gid must be a number");
    fails(["--env", "NOEQUALS", c.id, "true"], "--env", "KEY=VALUE");
    fails(["--cgroup", "../escape", c.id, "true"], "--cgroup");
    fails(["--cgroup", "nosuchctrl:x", c.id, "true"], "nosuchctrl");
    fails(["--process", "/no/such/process.json", c.id], "--process /no/such/process.json", "no such file or directory");
    fails([c.id], "no command given");
  });

  test("--process with invalid JSON content names the file and the field", () => {
    const file = join(c.b.dir, "bad-process.json");
    writeFileSync(file, JSON.stringify({ user: { uid: "zero", gid: 0 }, args: ["true"], cwd: "/" }));
    fails(["--process", file, c.id], file, "user.uid");
  });

  test("--tty with --detach needs --console-socket; --console-socket needs both", () => {
    fails(["--tty", "--detach", c.id, "sh"], "--console-socket");
    fails(["--console-socket", "/tmp/x.sock", c.id, "true"], "--console-socket");
  });

  test.skipIf(existsSync("/sys/module/apparmor/parameters/enabled") || existsSync("/sys/fs/selinux/enforce"))("--apparmor and --process-label on a host without AppArmor/SELinux fail, naming them [skipped where an LSM is enabled]", () => {
    fails(["--apparmor", "some-profile", c.id, "true"], "some-profile");
    fails(["--process-label", "system_u:system_r:container_t:s0", c.id, "true"], "SELinux");
  });

  test("with --log-format=json --log F (podman's flags) the error is the log's last entry", () => {
    const log = join(c.b.dir, "oci-log");
    const r = run([...c.argv("--log-format=json", "--log", log, "exec", c.id, "no-such-command")]);
    expect(r.code).toBe(255);
    const entries = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
    expect(entries.at(-1)!.level).toBe("error");
    expect(entries.at(-1)!.msg).toContain('exec: "no-such-command": executable file not found in $PATH');
  });

  test("a container that does not exist: 255 and runc's text", () => {
    const r = execIn(c, "no-such-container", "true");
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("container does not exist");
  });
});

describe.skipIf(!canRunContainers)(`exec and container states${SKIP}`, () => {
  test("a created (not started) container can be exec'd into", async () => {
    const created = await startContainer(() => {}, { start: false });
    try {
      const r = execIn(created, created.id, "sh", "-c", "cat /proc/1/comm");
      expect(r.code).toBe(0);
      expect(r.stdout).not.toBe("");
      expect(bunrunc.state({ root: created.b.root, id: created.id }).status).toBe("created");
    } finally {
      await created.remove();
    }
  });

  test("a stopped container refuses exec", async () => {
    const s = await startContainer();
    try {
      await bunrunc.kill({ root: s.b.root, id: s.id, signal: "KILL" });
      await until(() => bunrunc.state({ root: s.b.root, id: s.id }).status === "stopped");
      const r = execIn(s, s.id, "true");
      expect(r.code).toBe(255);
      expect(r.stderr).toContain("cannot exec in a stopped container");
    } finally {
      await s.remove();
    }
  });

  test("a paused container refuses exec; --ignore-paused runs once resumed", async () => {
    const s = await startContainer();
    try {
      await bunrunc.pause({ root: s.b.root, id: s.id });
      const r = execIn(s, s.id, "true");
      expect(r.code).toBe(255);
      expect(r.stderr).toContain("cannot exec in a paused container (use --ignore-paused to override)");
      const p = Bun.spawn(s.argv("exec", "--ignore-paused", s.id, "echo", "thawed"), { stdout: "pipe", stderr: "pipe" });
      await Bun.sleep(500);
      expect(p.exitCode).toBeNull();
      await bunrunc.resume({ root: s.b.root, id: s.id });
      expect(await p.exited).toBe(0);
      expect(await new Response(p.stdout).text()).toBe("thawed\n");
    } finally {
      await s.remove();
    }
  });
});
