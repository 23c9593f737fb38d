// The seeds' workflow as an unprivileged user on this host (cgroup v1 hybrid, nothing delegated):
// a fresh user writes `spec --rootless`, runs, creates, lists (OWNER is it), starts, execs (also
// under a terminal through a console socket), ps, kill, delete, with the default root
// $XDG_RUNTIME_DIR/bunrunc; and afterwards nothing of it is left: no state dir, no mount, no
// process. Limits it cannot have (no cgroup) are refused the way runc refuses them.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { makeTestUser, mountsUnder, SKIP_REASON, spawnAs, userBundle, type TestUser } from "./user.ts";

const CONSOLE_RECEIVER = join(import.meta.dir, "../lib/exec/console-receiver.py");
const PTYIO = join(import.meta.dir, "../lib/exec/ptyio.py");
// Each CLI call is a Bun start as another user; a busy host stretches a test to seconds.
setDefaultTimeout(60_000);
const suite = SKIP_REASON ? describe.skip : describe;

let user: TestUser;
let bundle: string;
let n = 0;
const id = (p: string) => `${p}-${process.pid}-${n++}`;

/** The user's config.json, as `spec --rootless` wrote it, edited by `edit`. */
function writeConfig(edit: (c: Record<string, any>) => void): void {
  const path = join(bundle, "config.json");
  const c = JSON.parse(readFileSync(path, "utf8"));
  edit(c);
  writeFileSync(path, JSON.stringify(c, null, 2));
  user.give(path);
}

async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (ok()) return;
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

suite(`rootless workflow${SKIP_REASON ? ` [skipped: ${SKIP_REASON}]` : ""}`, () => {
  let specText = "";
  beforeAll(() => {
    user = makeTestUser();
    ({ bundle } = userBundle(user));
    const r = user.bunrunc(["spec", "--rootless"], { cwd: bundle });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    specText = readFileSync(join(bundle, "config.json"), "utf8");
  });
  afterAll(() => user?.remove());

  test("spec --rootless maps the user to root in a user namespace, without a network namespace", () => {
    const c = JSON.parse(specText);
    expect(c.linux.uidMappings).toEqual([{ containerID: 0, hostID: user.uid, size: 1 }]);
    expect(c.linux.gidMappings).toEqual([{ containerID: 0, hostID: user.gid, size: 1 }]);
    const types = c.linux.namespaces.map((x: { type: string }) => x.type);
    expect(types).toContain("user");
    expect(types).not.toContain("network");
    expect(c.linux.resources).toBeUndefined();
    expect(statSync(join(bundle, "config.json")).uid).toBe(user.uid);
  });

  test("run: output and exit code, as root of a user namespace holding only the user's ids", () => {
    writeConfig((c) => {
      c.process.terminal = false;
      c.process.args = ["sh", "-c", "echo hello from $(id -u); cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups; exit 7"];
    });
    const r = user.bunrunc(["run", id("run")], { cwd: bundle });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(7);
    const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    expect(lines).toEqual(["hello from 0", `0 ${user.uid} 1`, `0 ${user.gid} 1`, "deny"]);
    // The default root, the user's: $XDG_RUNTIME_DIR/bunrunc, and the container is gone from it.
    const root = join(user.runtimeDir, "bunrunc");
    expect(statSync(root).uid).toBe(user.uid);
    expect(readdirSync(root).filter((e) => !e.startsWith("."))).toEqual([]);
  });

  test("create, list (OWNER is the user), start, list, state, exec, exec -t, ps, kill, delete; nothing left", async () => {
    writeConfig((c) => {
      c.process.terminal = false;
      c.process.args = ["sleep", "600"];
    });
    const c1 = id("life");
    const row = () => {
      const r = user.bunrunc(["list"]);
      expect(r.code).toBe(0);
      const [header, ...rows] = r.stdout.trim().split("\n");
      expect(header!.split(/\s+/)).toEqual(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]);
      return rows.map((l) => l.split(/\s+/)).find((f) => f[0] === c1);
    };
    expect(user.bunrunc(["create", c1], { cwd: bundle })).toMatchObject({ code: 0, stderr: "" });
    const created = row()!;
    expect([created[2], created[3], created[5]]).toEqual(["created", bundle, user.name]);
    const pid = Number(created[1]);
    expect(user.bunrunc(["start", c1])).toMatchObject({ code: 0, stderr: "" });
    expect(row()![2]).toBe("running");
    const state = JSON.parse(user.bunrunc(["state", c1]).stdout);
    expect([state.status, state.pid]).toEqual(["running", pid]);
    // The init runs as the user on the host.
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]).toBe(String(user.uid));

    const ex = user.bunrunc(["exec", c1, "sh", "-c", "id -u; cat /proc/1/cmdline | tr '\\0' ' '; exit 4"]);
    expect(ex.stderr).toBe("");
    expect([ex.code, ex.stdout.trim()]).toEqual([4, "0\nsleep 600"]);

    // exec -t -d: the pty master goes to a console socket, as conmon receives it.
    const sock = join(user.home, "console.sock");
    const steps = [{ expect: "# " }, { send: "echo $((6*7)); exit 5\r" }, { expect: "42" }, { eof: true }];
    // The receiver and the ptyio.py it imports, copied where the user can read them.
    for (const f of [CONSOLE_RECEIVER, PTYIO]) copyFileSync(f, join(user.home, basename(f)));
    user.give(join(user.home, basename(PTYIO)));
    user.give(join(user.home, basename(CONSOLE_RECEIVER)));
    const receiver = spawnAs(user, ["/usr/bin/python3", join(user.home, basename(CONSOLE_RECEIVER)), sock, "console", JSON.stringify(steps)]);
    await until(() => existsSync(sock), "the console socket");
    const tty = user.bunrunc(["exec", "-t", "-d", "--console-socket", sock, c1, "sh"]);
    expect([tty.code, tty.stderr]).toEqual([0, ""]);
    const got = JSON.parse((await new Response(receiver.stdout).text()) || "{}");
    await receiver.exited;
    expect(got.ok ? "ok" : got.output).toBe("ok");

    // ps without a cgroup: the processes of the container's pid namespace.
    const detached = user.bunrunc(["exec", "-d", c1, "sleep", "500"]);
    expect(detached.code).toBe(0);
    const ps = user.bunrunc(["ps", "--format", "json", c1]);
    expect(ps.code).toBe(0);
    const pids: number[] = JSON.parse(ps.stdout);
    expect(pids).toContain(pid);
    expect(pids.length).toBe(2);

    expect(user.bunrunc(["kill", c1, "KILL"])).toMatchObject({ code: 0, stderr: "" });
    await until(() => row()?.[2] === "stopped", "the container to stop");
    expect(user.bunrunc(["delete", c1])).toMatchObject({ code: 0, stderr: "" });
    expect(row()).toBeUndefined();

    // Nothing left: no state dir, no mount, no process of the user (the detached exec died with
    // the pid namespace's init).
    await until(() => user.processes().length === 0, "the user's processes to exit");
    expect(existsSync(join(user.runtimeDir, "bunrunc", c1))).toBe(false);
    expect(mountsUnder(user.dir)).toEqual([]);
  });

  test("kill --all without a cgroup signals every process of the container's pid namespace", async () => {
    const c2 = id("all");
    expect(user.bunrunc(["run", "-d", c2], { cwd: bundle }).code).toBe(0);
    expect(user.bunrunc(["exec", "-d", c2, "sleep", "500"]).code).toBe(0);
    const pids: number[] = JSON.parse(user.bunrunc(["ps", "--format", "json", c2]).stdout);
    expect(pids.length).toBe(2);
    expect(user.bunrunc(["kill", "--all", c2, "KILL"])).toMatchObject({ code: 0, stderr: "" });
    await until(() => pids.every((p) => !user.processes().includes(p)), "every process to exit");
    expect(user.bunrunc(["delete", c2]).code).toBe(0);
  });

  test("pause and update refuse in one line: the container has no cgroup (runc fails them too)", () => {
    const c3 = id("nocg");
    expect(user.bunrunc(["run", "-d", c3], { cwd: bundle }).code).toBe(0);
    try {
      const p = user.bunrunc(["pause", c3]);
      expect(p.code).toBe(1);
      expect(p.stderr).toContain("pause: the container has no cgroup to freeze (made rootless without a delegated cgroup)");
      expect(p.stderr.trim().split("\n").length).toBe(1);
      const u = user.bunrunc(["update", "--memory", "64M", c3]);
      expect(u.code).toBe(1);
      expect(u.stderr).toContain(`linux.resources.memory.limit: cannot set the memory limit: the container could not make or join a cgroup (rootless, and no cgroup is delegated to uid ${user.uid})`);
    } finally {
      expect(user.bunrunc(["delete", "-f", c3]).code).toBe(0);
    }
  });

  test("a memory limit without a delegated cgroup fails create by name and leaves nothing (runc refuses it too)", () => {
    writeConfig((c) => {
      c.linux.resources = { memory: { limit: 64 << 20 }, devices: [{ allow: false, access: "rwm" }] };
    });
    try {
      const c4 = id("limit");
      const r = user.bunrunc(["run", c4], { cwd: bundle });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("linux.resources.memory.limit: cannot set the memory limit: the container could not make or join a cgroup");
      expect(r.stderr.trim().split("\n").length).toBe(1);
      expect(existsSync(join(user.runtimeDir, "bunrunc", c4))).toBe(false);
      // Device rules alone are skipped, as runc skips them rootless: a user cannot program them.
      writeConfig((c) => {
        c.linux.resources = { devices: [{ allow: false, access: "rwm" }] };
        c.process.args = ["true"];
      });
      expect(user.bunrunc(["run", id("dev")], { cwd: bundle })).toMatchObject({ code: 0, stderr: "" });
    } finally {
      writeConfig((c) => {
        delete c.linux.resources;
        c.process.args = ["sleep", "600"];
      });
    }
  });

  test("a network namespace of its own has only loopback, up", () => {
    writeConfig((c) => {
      c.linux.namespaces.push({ type: "network" });
      c.process.args = ["sh", "-c", "cat /proc/net/dev | tail -n +3 | cut -d: -f1; cat /sys/class/net/lo/operstate"];
    });
    try {
      const r = user.bunrunc(["run", id("net")], { cwd: bundle });
      expect(r.stderr).toBe("");
      expect(r.stdout.trim().split(/\s+/)).toEqual(["lo", "unknown"]);
      expect(r.code).toBe(0);
    } finally {
      writeConfig((c) => {
        c.linux.namespaces = c.linux.namespaces.filter((x: { type: string }) => x.type !== "network");
        c.process.args = ["sleep", "600"];
      });
    }
  });

  test("errors name what is missing, one line each, and nothing is made", () => {
    const one = (r: { code: number; stderr: string }, text: string) => {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(text);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    };
    const before = readdirSync(join(user.runtimeDir, "bunrunc"));
    // sysfs in a user namespace without a network namespace of its own.
    writeConfig((c) => {
      c.mounts = c.mounts.map((m: { destination: string }) => (m.destination === "/sys" ? { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] } : m));
    });
    one(user.bunrunc(["run", id("sysfs")], { cwd: bundle }), "sysfs on /sys: a user namespace may mount sysfs only with a network namespace of its own (add one, or bind /sys from the host as bunrunc spec --rootless does)");
    // proc without a pid namespace of its own.
    writeFileSync(join(bundle, "config.json"), specText);
    writeConfig((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((x: { type: string }) => x.type !== "pid");
    });
    one(user.bunrunc(["run", id("proc")], { cwd: bundle }), "mounts[0]: proc on /proc: a user namespace may mount proc only with a pid namespace of its own (add one, or bind /proc from the host)");
    // A named cgroup it may not make (runc: "rootless + cgrouppath + no permission" fails too).
    writeFileSync(join(bundle, "config.json"), specText);
    writeConfig((c) => {
      c.process.terminal = false;
      c.linux.cgroupsPath = `/bunrunc-rootless-${process.pid}`;
    });
    one(user.bunrunc(["run", id("cgpath")], { cwd: bundle }), `linux.cgroupsPath: cannot make /sys/fs/cgroup/`);
    // Supplementary groups where setgroups is denied (only its own gid is mapped).
    writeFileSync(join(bundle, "config.json"), specText);
    writeConfig((c) => {
      c.process.user.additionalGids = [0];
    });
    one(user.bunrunc(["run", id("groups")], { cwd: bundle }), "process.user.additionalGids: setgroups is denied in a user namespace that maps only your own gid");
    // No user namespace at all.
    writeFileSync(join(bundle, "config.json"), specText);
    writeConfig((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((x: { type: string }) => x.type !== "user");
      delete c.linux.uidMappings;
      delete c.linux.gidMappings;
    });
    one(user.bunrunc(["run", id("nouserns")], { cwd: bundle }), "linux.namespaces: uid " + user.uid + " is not root: a rootless container needs a user namespace");
    // More than its own uid, and it has no subordinate ids.
    writeFileSync(join(bundle, "config.json"), specText);
    writeConfig((c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: 300000, size: 1000 }];
    });
    one(user.bunrunc(["run", id("nosub")], { cwd: bundle }), `linux.uidMappings[1]: host uids 300000-300999 are not among user ${user.name} (uid ${user.uid})'s subordinate uids in /etc/subuid (none)`);
    // ... and no newuidmap on PATH.
    one(user.bunrunc(["run", id("notool")], { cwd: bundle, env: user.env({ PATH: user.home }) }), `linux.uidMappings: mapping more than your own uid (${user.uid}) needs newuidmap (package uidmap), which is not on PATH`);
    // XDG_RUNTIME_DIR unset: runc's default is the system root, which is not the user's.
    const env = user.env();
    delete (env as Record<string, string | undefined>).XDG_RUNTIME_DIR;
    one(user.bunrunc(["run", id("noxdg")], { cwd: bundle, env }), "XDG_RUNTIME_DIR is unset: set it or pass --root");
    writeFileSync(join(bundle, "config.json"), specText);
    user.give(join(bundle, "config.json"));
    expect(readdirSync(join(user.runtimeDir, "bunrunc"))).toEqual(before);
    expect(mountsUnder(user.dir)).toEqual([]);
    expect(user.processes()).toEqual([]);
  });
});
