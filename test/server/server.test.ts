// The front (dist/bunrunc, zig/front.zig) and the resident server (dist/bunrunc-core with
// BUNRUNC_SERVE, src/server): real containers driven through dist/bunrunc the way engines drive
// it, checked against the same calls made with the server off (BUNRUNC_SERVER=off: the front
// execs the core directly). `--debug`'s first log line says when a call was served.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { uniqueId } from "../helpers/bundle.ts";
import { v1Mounts, cgroupVersion } from "../../src/cgroups/paths.ts";
import { canRun, direct, front, FRONT, ppidOf, scrubTime, serverPids, serverUp, SERVED, SKIP, waitFor } from "./helpers.ts";
import { bundle, cleanupBundles } from "./helpers.ts";

afterAll(() => {
  cleanupBundles();
});

describe.skipIf(!canRun)(`the front and the resident server${SKIP}`, () => {
  test("a second call is served; the first starts the server and still answers", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    const r = front(["--debug", "--root", b.root, "state", "nothing-here"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(SERVED);
    expect(r.stderr).toContain("container does not exist");
  });

  test("create, start, state, kill, delete through the server: same states and files as direct", () => {
    const b = bundle(["sleep", "100"]);
    serverUp(b.root);
    const id = uniqueId("srv");
    const c = front(["--debug", "--root", b.root, "--log", "log.json", "--log-format", "json", "create", "--bundle", "bundle", "--pid-file", "pid", id], { cwd: b.dir, detaches: true });
    expect(c.code).toBe(0);
    expect(readFileSync(join(b.dir, "log.json"), "utf8")).toContain(SERVED);
    const pid = Number(readFileSync(join(b.dir, "pid"), "utf8"));
    expect(JSON.parse(front(["--root", b.root, "state", id]).stdout)).toMatchObject({ id, pid, status: "created", bundle: b.bundle });
    // The front cloned it, and it runs the sealed init: neither host binary is its /proc/self/exe.
    expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:bunrunc-init/);
    // The init is not the server's child: it was the front's, and is now reparented.
    const serverPid = Number(/pid (\d+)/.exec(readFileSync(join(b.dir, "log.json"), "utf8"))![1]);
    expect(ppidOf(pid)).not.toBe(serverPid);
    expect(front(["--root", b.root, "start", id]).code).toBe(0);
    expect(JSON.parse(front(["--root", b.root, "state", id]).stdout).status).toBe("running");
    expect(front(["--root", b.root, "kill", id, "KILL"]).code).toBe(0);
    waitFor(() => JSON.parse(front(["--root", b.root, "state", id]).stdout).status === "stopped");
    expect(front(["--root", b.root, "delete", id])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(scrubTime(front(["--root", b.root, "state", id]).stderr)).toBe(scrubTime(front(["--root", b.root, "state", id], { env: direct }).stderr));
  });

  test("run in the foreground: the process's exit code, its output on the caller's stdout, the container deleted", () => {
    const b = bundle(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    serverUp(b.root);
    const id = uniqueId("srv");
    const r = front(["--debug", "--root", b.root, "run", "-b", b.bundle, id]);
    expect(r.stderr).toContain(SERVED);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err\n");
    expect(readdirSync(b.root).filter((n) => !n.startsWith("@"))).toEqual([]);
  });

  test("run: a signal sent to the front reaches the container process; 128+signal comes back", async () => {
    const b = bundle(["sh", "-c", "trap 'exit 42' TERM; echo ready; while true; do sleep 0.05; done"]);
    serverUp(b.root);
    const id = uniqueId("srv");
    const p = Bun.spawn([FRONT, "--root", b.root, "run", "-b", b.bundle, id], { stdout: "pipe", stderr: "pipe" });
    const reader = p.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("ready");
    p.kill("SIGTERM");
    expect(await p.exited).toBe(42);
    // Without a pid namespace sleep is not an init the kernel shields from signals it has no handler for.
    const b2 = bundle(["sleep", "100"], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
    });
    const id2 = uniqueId("srv");
    const p2 = Bun.spawn([FRONT, "--root", b2.root, "run", "-b", b2.bundle, id2], { stdout: "ignore", stderr: "pipe" });
    waitFor(() => front(["--root", b2.root, "state", id2]).stdout.includes('"running"'));
    p2.kill("SIGINT");
    // sleep has no handler: SIGINT kills it, and the front reports 128 + 2.
    expect(await p2.exited).toBe(130);
    expect(readdirSync(b2.root).filter((n) => !n.startsWith("@"))).toEqual([]);
  });

  test("exec in the foreground: exit code and output, also into a container whose pid namespace makes the init fork", () => {
    for (const pidns of [true, false]) {
      const b = bundle(["sleep", "100"], (s) => {
        if (!pidns) s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
      });
      serverUp(b.root);
      const id = uniqueId("srv");
      expect(front(["--root", b.root, "run", "-d", "-b", b.bundle, id], { detaches: true }).code).toBe(0);
      try {
        const r = front(["--debug", "--root", b.root, "exec", id, "sh", "-c", "echo $$; exit 7"]);
        expect(r.stderr).toContain(SERVED);
        expect(r.code).toBe(7);
        if (pidns) expect(Number(r.stdout)).toBeGreaterThan(1);
        expect(front(["--root", b.root, "exec", id, "true"]).code).toBe(0);
      } finally {
        front(["--root", b.root, "delete", "-f", id]);
      }
    }
  });

  test("--preserve-fds: the caller's fd 3 reaches the container through the front", () => {
    const b = bundle(["sh", "-c", "echo via-fd3 >&3"]);
    serverUp(b.root);
    const id = uniqueId("srv");
    const file = join(b.dir, "fd3");
    writeFileSync(file, "");
    const fd = openSync(file, "w");
    try {
      const r = Bun.spawnSync([FRONT, "--debug", "--root", b.root, "run", "--preserve-fds", "1", "-b", b.bundle, id], { stdio: ["ignore", "pipe", "pipe", fd] as never });
      expect(r.stderr.toString()).toContain(SERVED);
      expect(r.exitCode).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, "utf8")).toBe("via-fd3\n");
  });

  test("errors read the same served and direct: bad config, unknown verb, arity, exec into a stopped container", () => {
    const b = bundle(["true"], (s) => {
      (s.linux as Record<string, unknown>).resources = { memory: { limit: "64m" } };
    });
    serverUp(b.root);
    const calls = [
      ["--root", b.root, "create", "-b", b.bundle, "bad-config"],
      ["--root", b.root, "frobnicate"],
      ["--root", b.root, "start"],
      ["--root", b.root, "exec", "nothing", "true"],
      ["--root", b.root, "kill", "nothing"],
    ];
    for (const args of calls) {
      const served = front(args);
      const off = front(args, { env: direct });
      expect({ args, ...served, stderr: scrubTime(served.stderr) }).toEqual({ args, ...off, stderr: scrubTime(off.stderr) });
    }
    expect(readdirSync(b.root).filter((n) => !n.startsWith("@"))).toEqual([]);
  });

  test("run with a terminal to relay runs directly (it would hold the server for the container's life)", () => {
    const t = bundle(["true"], (s) => {
      s.process!.terminal = true;
    });
    serverUp(t.root);
    const tr = front(["--debug", "--root", t.root, "run", "-b", t.bundle, uniqueId("srv")]);
    expect(tr.stderr).not.toContain(SERVED);
  });

  test("the server lives in a cgroup of its own, named bunrunc-core, in every hierarchy; not in its starter's", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    const [pid] = serverPids();
    const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
    // Every hierarchy it could join (v1 controllers, the v2 tree) names bunrunc-core; none is the test's own cgroup.
    const own = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
    const joined = lines.filter((l) => l.endsWith(":/bunrunc-core"));
    expect(joined.length).toBeGreaterThan(0);
    for (const l of lines) if (!l.endsWith(":/bunrunc-core")) expect(l.endsWith(":/")).toBe(true);
    expect(lines.some((l) => own.includes(l) && !l.endsWith(":/"))).toBe(false);
  });

  test("a caller in other namespaces is not served: the front runs the call itself", () => {
    const b = bundle(["sh", "-c", "exit 5"]);
    serverUp(b.root);
    const id = uniqueId("srv");
    const r = front(["--debug", "--root", b.root, "run", "-b", b.bundle, id], { argv0: ["unshare", "--mount", "--propagation", "unchanged"] });
    expect(r.stderr).not.toContain(SERVED);
    expect(r.code).toBe(5);
  });

  test("a front in a mount namespace of its own, with a /run of its own, starts no server there", () => {
    const b = bundle(["true"]);
    // Twice: a server the first call started would be listening for the second.
    const script = `mount -t tmpfs -o mode=755 tmpfs /run && for i in 1 2; do "$0" --debug --root "$1" state nothing-here 2>&1; done; ls -a /run`;
    const r = Bun.spawnSync(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, FRONT, b.root], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const out = r.stdout.toString();
    expect(out.match(/container does not exist/g)?.length).toBe(2);
    expect(out).not.toContain(SERVED);
    expect(out).not.toContain("bunrunc-core");
  });

  test.skipIf(cgroupVersion() !== 1)("a relative cgroupsPath is under the caller's cgroup, not the server's", () => {
    const pidsMount = v1Mounts().pids!;
    const parent = join(pidsMount, uniqueId("srv-parent"));
    mkdirSync(parent);
    try {
      const b = bundle(["sleep", "100"], (s) => {
        s.linux!.cgroupsPath = "sub";
      });
      serverUp(b.root);
      const id = uniqueId("srv");
      const r = front(["--debug", "--root", b.root, "--log", join(b.dir, "log"), "create", "-b", b.bundle, "--pid-file", join(b.dir, "pid"), id], {
        argv0: ["sh", "-c", `echo $$ > ${parent}/cgroup.procs && exec "$0" "$@"`],
        detaches: true,
      });
      expect(r.code).toBe(0);
      expect(readFileSync(join(b.dir, "log"), "utf8")).toContain(SERVED);
      const pid = readFileSync(join(b.dir, "pid"), "utf8");
      const line = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => /:pids:/.test(l));
      expect(line?.endsWith(`${parent.slice(pidsMount.length)}/sub`)).toBe(true);
      expect(front(["--root", b.root, "delete", "-f", id]).code).toBe(0);
      expect(existsSync(join(parent, "sub"))).toBe(false);
    } finally {
      waitFor(() => {
        try {
          rmdirSync(parent);
          return true;
        } catch {
          return false;
        }
      });
    }
  });
});

