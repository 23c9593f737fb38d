// Each way a call can run, shown to be the way it ran — by --debug's first line and by process
// ancestry, never by how long it took: served (the resident server ran it), direct
// (BUNRUNC_SERVER=off: the front exec'd bunrunc-core), cold (no server: the front started one and
// ran the call directly), hooked (a container with a hook, served: the hook is the server's child;
// direct: the calling process's).
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { uniqueId } from "../helpers/bundle.ts";
import { canRun, CORE, direct, FRONT, front, serverPids, serverUp, SERVED, SKIP, stopServers, waitFor } from "./helpers.ts";
import { bundle, cleanupBundles } from "./helpers.ts";

afterAll(() => cleanupBundles());

describe.skipIf(!canRun)(`which path a call takes${SKIP}`, () => {
  test("--systemd-cgroup calls are never served (the driver waits on systemd; the server would hold everyone up)", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    expect(front(["--debug", "--root", b.root, "state", "nothing-here"]).stderr.split("\n")[0]).toContain(SERVED);
    const r = front(["--debug", "--systemd-cgroup", "--root", b.root, "state", "nothing-here"]);
    expect(r.stderr).toContain("level=debug");
    expect(r.stderr).not.toContain(SERVED);
  });

  test("cold: with no server running, the call runs directly and starts the server the next call uses", () => {
    const b = bundle(["true"]);
    stopServers();
    expect(serverPids()).toEqual([]);
    const r = front(["--debug", "--root", b.root, "run", "-b", b.bundle, uniqueId("cold")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("level=debug");
    expect(r.stderr).not.toContain(SERVED);
    // The call started it (none ran before); the next call is its.
    waitFor(() => serverPids().length === 1);
    serverUp(b.root);
    const next = front(["--debug", "--root", b.root, "run", "-b", b.bundle, uniqueId("warm")]);
    expect(next.code).toBe(0);
    expect(next.stderr.split("\n")[0]).toContain(`${SERVED}, pid ${serverPids()[0]}`);
  });

  test("cold, a first call that outlives the server's wait for it (a foreground run): the server starts while the call still runs", async () => {
    // The server's start waits for the call that started it, 100 ms at most (zig/server_link.zig).
    const b = bundle(["sleep", "60"]);
    stopServers();
    const id = uniqueId("long");
    const call = Bun.spawn([FRONT, "--root", b.root, "run", "-b", b.bundle, id], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    try {
      waitFor(() => serverPids().length === 1);
      expect(call.exitCode).toBeNull();
    } finally {
      front(["--root", b.root, "kill", id, "KILL"]);
      await call.exited;
    }
    expect(front(["--root", b.root, "state", id]).code).not.toBe(0); // run removed it
  });

  test("cold, from a caller whose open-files soft limit is below its hard one (a login shell's): the server it starts serves its next call", () => {
    const b = bundle(["true"]);
    stopServers();
    // Bun's start raises that soft limit to the hard one; the server puts the starter's back, or its context would never be the caller's again.
    const lowered = ["sh", "-c", 'ulimit -Sn 512 && exec "$0" "$@"'];
    const first = front(["--debug", "--root", b.root, "state", "nothing-here"], { argv0: lowered });
    expect(first.stderr).not.toContain(SERVED);
    waitFor(() => serverPids().length === 1);
    let served = false;
    for (let i = 0; i < 100 && !served; i++) {
      served = front(["--debug", "--root", b.root, "state", "nothing-here"], { argv0: lowered }).stderr.includes(SERVED);
      if (!served) Bun.sleepSync(50);
    }
    expect(served).toBe(true);
    expect(readFileSync(`/proc/${serverPids()[0]}/limits`, "utf8")).toMatch(/^Max open files\s+512\s/m);
    // A caller with other limits is not the server's kind of caller: it runs directly.
    expect(front(["--debug", "--root", b.root, "state", "nothing-here"], { argv0: ["sh", "-c", 'ulimit -Sn 256 && exec "$0" "$@"'] }).stderr).not.toContain(SERVED);
    stopServers();
  });

  test("served and direct: --debug's first line names the server that ran the call, or no server", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    const served = front(["--debug", "--root", b.root, "run", "-b", b.bundle, uniqueId("srv")]);
    expect(served.stderr.split("\n")[0]).toContain(`${SERVED}, pid ${serverPids()[0]}`);
    const off = front(["--debug", "--root", b.root, "run", "-b", b.bundle, uniqueId("dir")], { env: direct });
    expect(off.code).toBe(0);
    expect(off.stderr).toContain("level=debug");
    expect(off.stderr).not.toContain(SERVED);
  });

  test("hooked: served, the hook is the server's child; direct, the calling bunrunc-core's", () => {
    const mark = join("/tmp", uniqueId("paths-hook"));
    const b = bundle(["true"], (s) => {
      // The process that started the hook and its executable, read while the hook runs (the
      // direct run's bunrunc-core is gone afterwards). The hook's env is its own: busybox is absolute.
      s.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `echo $PPID $(/bin/readlink /proc/$PPID/exe) > ${mark}`] }] };
    });
    serverUp(b.root);
    const hookParent = (env: Record<string, string>) => {
      rmSync(mark, { force: true });
      const r = front(["--debug", "--root", b.root, "run", "-b", b.bundle, uniqueId("hk")], { env });
      expect(r.code).toBe(0);
      const [pid, exe] = readFileSync(mark, "utf8").trim().split(" ");
      return { pid: Number(pid), exe, servedLine: r.stderr.split("\n")[0]! };
    };
    const served = hookParent({});
    expect(served.servedLine).toContain(SERVED);
    expect(serverPids()).toContain(served.pid);
    expect(served.exe).toBe(realpathSync(CORE));
    const off = hookParent(direct);
    expect(off.servedLine).not.toContain(SERVED);
    expect(serverPids()).not.toContain(off.pid);
    expect(off.exe).toBe(realpathSync(CORE));
    rmSync(mark, { force: true });
  });
});
