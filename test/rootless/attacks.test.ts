// Rootless changes who holds the privilege: an unprivileged user drives bunrunc, so it must not
// be a way to reach anything root owns. Each test is the user trying, through bunrunc, what the
// kernel would not give it directly: root's files through bind mounts, state another user can
// write, root's containers through root's --root, root's resident server.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import { defaultSpec, makeBundle, type TestBundle } from "../helpers/bundle.ts";
import { peerPidfds, serverUp, socketPath } from "../server/helpers.ts";
import { makeTestUser, mountsUnder, SKIP_REASON, userBundle, userFront, type TestUser } from "./user.ts";

setDefaultTimeout(60_000);
const suite = SKIP_REASON ? describe.skip : describe;
const NOBODY = 65534;

suite(`rootless attacks${SKIP_REASON ? ` [skipped: ${SKIP_REASON}]` : ""}`, () => {
  let user: TestUser;
  let bundle: string;
  let specText: string;
  let rootOwned: TestBundle; // root's container, in a root of root's
  const rootId = `root-owned-${process.pid}`;
  let rootPid = 0;
  beforeAll(async () => {
    user = makeTestUser();
    ({ bundle } = userBundle(user));
    expect(user.bunrunc(["spec", "--rootless"], { cwd: bundle }).code).toBe(0);
    specText = readFileSync(join(bundle, "config.json"), "utf8");
    rootOwned = makeBundle(defaultSpec(["sleep", "600"]));
    chmodSync(rootOwned.dir, 0o755); // the user may walk to root's root; what it finds there is the test
    await bunrunc.run({ root: rootOwned.root, id: rootId, bundle: rootOwned.bundle, detach: true });
    rootPid = bunrunc.state({ root: rootOwned.root, id: rootId }).pid;
  });
  afterAll(async () => {
    await bunrunc.delete({ root: rootOwned.root, id: rootId, force: true }).catch(() => {});
    rootOwned?.cleanup();
    user?.remove();
  });

  function config(edit: (c: Record<string, any>) => void): void {
    const c = JSON.parse(specText);
    c.process.terminal = false;
    edit(c);
    writeFileSync(join(bundle, "config.json"), JSON.stringify(c, null, 2));
    user.give(join(bundle, "config.json"));
  }

  const oneLine = (r: { code: number; stderr: string }, text: string, code = 1) => {
    expect(r.stderr).toContain(text);
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(r.code).toBe(code);
  };

  const nothingMade = () => {
    const root = join(user.runtimeDir, "bunrunc");
    expect(existsSync(root) ? readdirSync(root).filter((e) => !e.startsWith(".")) : []).toEqual([]);
    expect(mountsUnder(user.dir)).toEqual([]);
    expect(user.processes()).toEqual([]);
  };

  test("a bind of /root, of /etc/shadow, or of a symlink to /root fails before anything is made", () => {
    const link = join(user.home, "to-root");
    symlinkSync("/root", link);
    for (const [source, shown] of [["/root", "/root"], ["/etc/shadow", "/etc/shadow"], [link, link]] as const) {
      config((c) => {
        c.process.args = ["ls", "/loot"];
        c.mounts.push({ destination: "/loot", type: "bind", source, options: ["rbind", "ro"] });
      });
      const r = user.bunrunc(["run", `loot-${process.pid}`], { cwd: bundle });
      oneLine(r, `mounts[${JSON.parse(specText).mounts.length}].source: ${shown}: permission denied for uid ${user.uid} (a rootless container reaches only what its user can)`);
      expect(r.stdout).toBe("");
      nothingMade();
    }
  });

  test("what a reachable bind holds of root's stays root's: /etc/shadow through a bind of /etc is refused by the kernel", () => {
    config((c) => {
      c.process.args = ["sh", "-c", "cat /hostetc/shadow; echo status $?; ls /hostetc/hostname >/dev/null && echo reachable"];
      c.mounts.push({ destination: "/hostetc", type: "bind", source: "/etc", options: ["rbind", "ro"] });
    });
    const r = user.bunrunc(["run", `etc-${process.pid}`], { cwd: bundle });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Permission denied");
    expect(r.stdout.trim().split("\n")).toEqual(["status 1", "reachable"]);
    nothingMade();
  });

  test("a root group/other-writable, or owned by another user, is not trusted", () => {
    const open = join(user.home, "open-root");
    mkdirSync(open);
    chownSync(open, user.uid, user.gid);
    chmodSync(open, 0o777);
    oneLine(user.bunrunc(["--root", open, "list"]), `refusing untrusted state: ${open} is writable by group and others (mode 0777)`);
    config((c) => {
      c.process.args = ["true"];
    });
    oneLine(user.bunrunc(["--root", open, "run", `open-${process.pid}`], { cwd: bundle }), `refusing untrusted state: ${open} is writable by group and others (mode 0777)`);
    expect(readdirSync(open)).toEqual([]);
    const others = join(user.dir, "nobodys-root");
    mkdirSync(others, { mode: 0o711 });
    chownSync(others, NOBODY, NOBODY);
    oneLine(user.bunrunc(["--root", others, "list"]), `refusing untrusted state: ${others} is owned by uid ${NOBODY}; an unprivileged user's --root must be its own (uid ${user.uid})`);
    // A container dir in its own root that others may write (planted, or chmod'ed by mistake).
    const mine = join(user.home, "my-root");
    expect(user.bunrunc(["--root", mine, "run", "-d", `mine-${process.pid}`], { cwd: bundle }).code).toBe(0);
    chmodSync(join(mine, `mine-${process.pid}`), 0o777);
    oneLine(user.bunrunc(["--root", mine, "state", `mine-${process.pid}`]), `is writable by group and others (mode 0777)`);
    chmodSync(join(mine, `mine-${process.pid}`), 0o711);
    expect(user.bunrunc(["--root", mine, "delete", "-f", `mine-${process.pid}`]).code).toBe(0);
  });

  test("root's containers through root's --root: every verb refused, the container untouched", () => {
    const refusal = `refusing untrusted state: ${rootOwned.root} is owned by uid 0; an unprivileged user's --root must be its own (uid ${user.uid})`;
    for (const args of [["list"], ["state", rootId], ["ps", rootId], ["kill", rootId, "KILL"], ["kill", "--all", rootId, "KILL"], ["pause", rootId], ["update", "--memory", "1M", rootId], ["delete", "-f", rootId]]) {
      oneLine(user.bunrunc(["--root", rootOwned.root, ...args]), refusal);
    }
    oneLine(user.bunrunc(["--root", rootOwned.root, "exec", rootId, "true"]), refusal, 255);
    config((c) => {
      c.process.args = ["true"];
    });
    oneLine(user.bunrunc(["--root", rootOwned.root, "run", rootId], { cwd: bundle }), refusal);
    const s = bunrunc.state({ root: rootOwned.root, id: rootId });
    expect([s.status, s.pid]).toEqual(["running", rootPid]);
  });

  test("a rootless container sharing the host's pid namespace cannot signal root's container (the kernel refuses)", () => {
    config((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((x: { type: string }) => x.type !== "pid");
      // Without a pid namespace of its own a user namespace may not mount procfs: the host's, bound.
      c.mounts = c.mounts.map((m: { destination: string }) => (m.destination === "/proc" ? { destination: "/proc", type: "bind", source: "/proc", options: ["rbind", "nosuid", "nodev", "noexec"] } : m));
      c.process.args = ["sh", "-c", `kill -9 ${rootPid}; echo status $?`];
    });
    const r = user.bunrunc(["run", `signal-${process.pid}`], { cwd: bundle });
    expect(r.stdout.trim()).toBe("status 1");
    expect(r.stderr).toContain("Operation not permitted");
    expect(bunrunc.state({ root: rootOwned.root, id: rootId }).status).toBe("running");
    nothingMade();
  });

  (peerPidfds ? test : test.skip)(`root's resident server: the user's front never connects, and the kernel refuses the user its socket${peerPidfds ? "" : " [skipped: no SO_PEERPIDFD here, so no server runs]"}`, () => {
    serverUp(rootOwned.root);
    const sock = socketPath();
    expect(existsSync(sock)).toBe(true);
    // The user's bunrunc runs directly: strace sees no connect() to the server at all; root's
    // front, traced the same way, does connect (the control: the trace would show it).
    const trace = join(user.home, "trace");
    // Root of a user namespace the user made (as rootless podman runs its runtime) is no root either.
    const traced = (asUser: boolean, prefix: string[] = []) => {
      const r = Bun.spawnSync(["strace", "-f", "-qq", "-e", "trace=connect", "-o", trace, ...(asUser ? ["-u", user.name] : []), ...prefix, asUser ? userFront(user) : join(import.meta.dir, "../../dist/bunrunc"), "--root", asUser ? join(user.home, "traced-root") : rootOwned.root, "list"], { env: user.env(), cwd: user.home, stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode).toBe(0);
      return readFileSync(trace, "utf8").split("\n").filter((l) => l.includes("/run/bunrunc-core/"));
    };
    expect(traced(false).length).toBeGreaterThan(0);
    expect(traced(true)).toEqual([]);
    expect(traced(true, ["unshare", "--user", "--map-root-user"])).toEqual([]);
    // Nor can it, if it tried: the socket's directory is root's alone.
    const py = "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET)\ntry:\n  s.connect(sys.argv[1]); print('connected')\nexcept OSError as e: print(e.errno)";
    const r = user.run(["/usr/bin/python3", "-c", py, sock]);
    expect(r.stdout.trim()).toBe("13"); // EACCES
  });
});
