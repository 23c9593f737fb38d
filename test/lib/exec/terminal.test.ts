// Terminals, driven through real ptys the way a person (pty-driver.py) or conmon
// (console-receiver.py) uses them: `run` and `exec -t` relaying bunrunc's own terminal (raw
// mode, resize, ^C, ^D and the exit code), and create's --console-socket.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import * as bunrunc from "../../../src/lib/index.ts";
import { defaultSpec, makeBundle, uniqueId } from "../../helpers/bundle.ts";
import { canDrivePtys, onPty, receiver, run, SKIP_PTY, startContainer, until, type Container } from "./helpers.ts";
import { bunruncArgv } from "../../helpers/cli-path.ts";

// Generous: a pty session through a Bun start takes seconds when the host is busy (a timeout, not a speed bound).
setDefaultTimeout(30_000);

let c: Container;
beforeAll(async () => {
  if (canDrivePtys) c = await startContainer();
});
afterAll(async () => {
  await c?.remove();
});

const PROMPT = "# ";

/** A bundle whose process is an interactive `sh` on a terminal. */
function shellBundle() {
  const spec = defaultSpec(["sh"]);
  spec.process!.terminal = true;
  const b = makeBundle(spec);
  for (const applet of ["stty", "tty"]) symlinkSync("busybox", join(b.rootfs, "bin", applet));
  return b;
}

describe.skipIf(!canDrivePtys)(`foreground terminals${SKIP_PTY}`, () => {
  test("run with terminal true: type, read, resize (stty size), Ctrl-D ends it with the shell's status", async () => {
    const b = shellBundle();
    const id = uniqueId("tty");
    try {
      const r = await onPty(
        [...bunruncArgv(), "--root", b.root, "run", "--bundle", b.bundle, id],
        [
          { expect: PROMPT },
          { send: "echo $((6*7))\r" },
          { expect: "\r\n42\r\n" },
          { send: "stty size\r" },
          { expect: "24 80" },
          { resize: [33, 101] },
          { sleep: 0.2 },
          { send: "stty size\r" },
          { expect: "33 101" },
          { send: "tty\r" },
          { expect: "/dev/pts/\\d+" },
          { send: "(exit 7)\r" },
          { expect: PROMPT },
          { send: "\x04" },
        ],
      );
      expect(r.ok ? "ok" : r.output).toBe("ok");
      expect(r.code).toBe(7);
      // run deleted the container after it exited.
      expect(bunrunc.list({ root: b.root })).toEqual([]);
    } finally {
      for (const s of bunrunc.list({ root: b.root })) await bunrunc.delete({ root: b.root, id: s.id, force: true });
      b.cleanup();
    }
  });

  test("exec -t: a shell in the running container; ^C reaches it through the pty; exit status", async () => {
    const r = await onPty(c.argv("exec", "-t", c.id, "sh"), [
      { expect: PROMPT },
      { send: "readlink /proc/self/ns/pid; tty\r" },
      { expect: "pid:\\[\\d+\\]" },
      { expect: "/dev/pts/\\d+" },
      { send: "sleep 100\r" },
      { sleep: 0.3 },
      { send: "\x03" },
      { expect: PROMPT },
      { send: "echo status=$?\r" },
      { expect: "status=130" },
      { resize: [50, 132] },
      { sleep: 0.2 },
      { send: "stty size; exit 5\r" },
      { expect: "50 132" },
    ]);
    expect(r.ok ? "ok" : r.output).toBe("ok");
    expect(r.code).toBe(5);
  });

  test("exec -t with a pipe for stdin: the input is typed in, its end is ^D", () => {
    // Typed ahead, a ^D can reach the pty before the shell switches it to raw mode, and the line
    // discipline then drops it: the input ends with `exit` so the shell ends either way.
    const r = run(c.argv("exec", "-t", c.id, "sh"), { stdin: "echo from-pipe $((1+1))\nexit\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("from-pipe 2");
  });
});

describe.skipIf(!canDrivePtys)(`create --console-socket${SKIP_PTY}`, () => {
  test("the receiver gets the master (SCM_RIGHTS) and talks to the container's shell; consoleSize applied", async () => {
    const spec = defaultSpec(["sh"]);
    spec.process!.terminal = true;
    spec.process!.consoleSize = { height: 25, width: 77 };
    const b = makeBundle(spec);
    symlinkSync("busybox", join(b.rootfs, "bin", "stty"));
    const id = uniqueId("console");
    const sock = join(b.dir, "console.sock");
    try {
      const rcv = await receiver(sock, "console", [
        { expect: PROMPT },
        { send: "stty size; hostname\r" },
        { expect: "25 77" },
        { expect: "runc" },
        { send: "exit 3\r" },
        { eof: true },
      ]);
      const created = run([...bunruncArgv(), "--root", b.root, "create", "--bundle", b.bundle, "--console-socket", sock, id]);
      expect(created).toEqual({ code: 0, stdout: "", stderr: "" });
      await bunrunc.start({ root: b.root, id });
      const got = await rcv.result;
      expect(got.ok ? "ok" : got.output).toBe("ok");
      expect(got.name).toMatch(/^\/dev\/pts\/\d+$/);
      await until(() => bunrunc.state({ root: b.root, id }).status === "stopped");
      expect(existsSync(sock)).toBe(true);
    } finally {
      await bunrunc.delete({ root: b.root, id, force: true }).catch(() => {});
      b.cleanup();
    }
  });
});
