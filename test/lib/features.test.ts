// What the container process actually sees, one feature per test, through the library's run().
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { canRunContainers, runIn, SKIP_REASON, type Ran } from "./container-helper.ts";

const ran: Ran[] = [];
afterEach(() => {
  for (const r of ran.splice(0)) r.b.cleanup();
});
async function run(...args: Parameters<typeof runIn>): Promise<Ran> {
  const r = await runIn(...args);
  ran.push(r);
  return r;
}

const status = (out: string, key: string) => new RegExp(`^${key}:\\s*(.*)$`, "m").exec(out)?.[1];

describe.skipIf(!canRunContainers)(`container process${SKIP_REASON}`, () => {
  test("capabilities: runc's default set in CapEff/CapPrm/CapBnd/CapAmb, none inheritable; NoNewPrivs", async () => {
    const r = await run("cat /proc/self/status");
    expect(r.code).toBe(0);
    const caps = "0000000020000420"; // KILL(5) NET_BIND_SERVICE(10) AUDIT_WRITE(29)
    expect(status(r.out, "CapEff")).toBe(caps);
    expect(status(r.out, "CapPrm")).toBe(caps);
    expect(status(r.out, "CapBnd")).toBe(caps);
    // runc 1.1 asks for these as ambient too, but the kernel refuses an ambient cap that is not
    // inheritable, and runc skips it: CapAmb stays empty there as well.
    expect(status(r.out, "CapAmb")).toBe("0000000000000000");
    expect(status(r.out, "CapInh")).toBe("0000000000000000");
    expect(status(r.out, "NoNewPrivs")).toBe("1");
  });

  test("uid, gid, additional groups and umask", async () => {
    const r = await run("cat /proc/self/status", (s) => {
      s.process!.user = { uid: 1000, gid: 1001, additionalGids: [10, 20], umask: 0o027 };
    });
    expect(status(r.out, "Uid")).toBe("1000\t1000\t1000\t1000");
    expect(status(r.out, "Gid")).toBe("1001\t1001\t1001\t1001");
    expect(status(r.out, "Groups")?.trim()).toBe("10 20");
    expect(status(r.out, "Umask")).toBe("0027");
  });

  test("umask defaults to 0022", async () => {
    expect(status((await run("cat /proc/self/status")).out, "Umask")).toBe("0022");
  });

  test("hostname and rlimits", async () => {
    const r = await run("hostname; grep 'Max open files' /proc/self/limits", (s) => {
      s.hostname = "feature-host";
      s.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 512, hard: 768 }];
    });
    expect(r.out).toMatch(/^feature-host\nMax open files +512 +768 +files/);
  });

  test("mountinfo: read-only rootfs, proc, sysfs ro, devpts, mqueue, shm", async () => {
    const r = await run("cat /proc/self/mountinfo; touch /x 2>&1 || true");
    const mounts = r.out.split("\n").map((l) => l.split(" ")).filter((f) => f.length > 6);
    const at = (p: string) => mounts.find((f) => f[4] === p);
    expect(at("/")?.[5]).toMatch(/^ro,/);
    expect(at("/proc")?.join(" ")).toContain(" - proc ");
    expect(at("/sys")?.[5]).toMatch(/^ro,/);
    expect(at("/dev/pts")?.join(" ")).toContain(" - devpts ");
    expect(at("/dev/mqueue")?.join(" ")).toContain(" - mqueue ");
    expect(at("/dev/shm")?.join(" ")).toContain(" - tmpfs ");
    expect(r.out).toContain("Read-only file system");
  });

  test("masked paths are empty, read-only paths refuse writes (EROFS)", async () => {
    const r = await run("wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/ns_last_pid; echo rc=$?");
    const lines = r.out.trim().split("\n");
    expect(lines[0]!.trim()).toBe("0");
    expect(lines[1]!.trim()).toBe("0");
    expect(r.out).toContain("Read-only file system");
  });

  test("default devices and linux.devices exist with the right type, numbers and modes", async () => {
    const r = await run("stat -c '%n %F %t:%T %a %u:%g' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/extra; readlink /dev/fd; readlink /dev/ptmx", (s) => {
      s.linux!.devices = [{ path: "/dev/extra", type: "c", major: 1, minor: 3, fileMode: 0o640, uid: 7, gid: 8 }];
    });
    expect(r.out).toContain("/dev/null character special file 1:3 666 0:0");
    expect(r.out).toContain("/dev/tty character special file 5:0 666 0:0");
    expect(r.out).toContain("/dev/extra character special file 1:3 640 7:8");
    expect(r.out).toContain("/proc/self/fd\npts/ptmx");
  });

  test("a rootfs outside the bundle", async () => {
    const r = await run("echo outside-ok", () => {}, { rootfsOutside: true });
    expect(r.code).toBe(0);
    expect(r.out).toBe("outside-ok\n");
  });

  test("exit status, and 128+signal when the process is killed", async () => {
    expect((await run("exit 7")).code).toBe(7);
    // pid 1 of a pid namespace ignores SIGKILL from inside it: share the host's pid namespace.
    const killed = await run("kill -9 $$", (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
    });
    expect(killed.code).toBe(137);
  });

  test("hooks receive the state: createRuntime and poststart in the runtime, startContainer inside", async () => {
    const r = await run("cat /hook-start 2>/dev/null; echo", (s, b) => {
      const rec = join(b.dir, "rec.sh");
      writeFileSync(rec, `#!/bin/sh\ncat > "${b.dir}/$1.json"\n`);
      chmodSync(rec, 0o755);
      s.hooks = {
        createRuntime: [{ path: rec, args: ["rec", "createRuntime"] }],
        poststart: [{ path: rec, args: ["rec", "poststart"] }],
        poststop: [{ path: rec, args: ["rec", "poststop"] }],
        startContainer: [{ path: "/bin/sh", args: ["sh", "-c", "cat > /out/start.json"] }],
      };
    });
    expect(r.code).toBe(0);
    const read = (name: string) => JSON.parse(readFileSync(join(r.b.dir, name), "utf8"));
    const created = read("createRuntime.json");
    expect(created).toMatchObject({ status: "creating", bundle: r.b.bundle });
    expect(created.pid).toBeGreaterThan(1);
    expect(read("poststart.json")).toMatchObject({ id: created.id, status: "running", pid: created.pid });
    expect(read("poststop.json")).toMatchObject({ id: created.id, status: "stopped" });
    expect(read("out/start.json")).toMatchObject({ id: created.id, status: "created", pid: 1 });
  });
});
