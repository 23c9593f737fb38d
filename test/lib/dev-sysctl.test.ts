// /dev as the container sees it (the standard links, devpts with its own ptmx, shm, mqueue),
// sysctls written inside the container's namespaces (never the host's), and domainname.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import { defaultSpec, makeBundle, uniqueId } from "../helpers/bundle.ts";
import { canRunContainers, cleanRuns, SKIP_REASON } from "./container-helper.ts";

const run = cleanRuns();

describe.skipIf(!canRunContainers)(`/dev${SKIP_REASON}`, () => {
  test("linux.devices of every type: char, block, fifo, with mode, uid and gid", async () => {
    const r = await run("stat -c '%n|%F|%t:%T|%a|%u:%g' /dev/c1 /dev/b1 /dev/p1 /dev/deep/u1", (s) => {
      s.linux!.devices = [
        { path: "/dev/c1", type: "c", major: 1, minor: 5, fileMode: 0o600, uid: 10, gid: 20 },
        { path: "/dev/b1", type: "b", major: 7, minor: 200, fileMode: 0o660, uid: 0, gid: 6 },
        { path: "/dev/p1", type: "p", fileMode: 0o644 },
        { path: "/dev/deep/u1", type: "u", major: 1, minor: 3 },
      ];
    });
    expect(r.out.trim().split("\n")).toEqual([
      "/dev/c1|character special file|1:5|600|10:20",
      "/dev/b1|block special file|7:c8|660|0:6",
      "/dev/p1|fifo|0:0|644|0:0",
      "/dev/deep/u1|character special file|1:3|666|0:0",
    ]);
  });

  test("the fd, stdin, stdout, stderr and ptmx links", async () => {
    const r = await run("for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done");
    expect(r.out).toBe("/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\n");
  });

  test("devpts is a new instance: opening /dev/ptmx makes pts 0, ptmx mode 666, gid 5, mode 620", async () => {
    const r = await run("exec 3<>/dev/ptmx; ls /dev/pts; stat -c '%a %g' /dev/pts/0 /dev/pts/ptmx");
    expect(r.code).toBe(0);
    expect(r.out).toBe("0\nptmx\n620 5\n666 0\n");
  });

  test("/dev/shm is a sticky world-writable tmpfs; /dev/mqueue is mqueue", async () => {
    const r = await run("stat -c '%a %F' /dev/shm; echo data > /dev/shm/f && cat /dev/shm/f; grep -E ' /dev/(shm|mqueue) ' /proc/self/mountinfo | busybox cut -d' ' -f5,8");
    expect(r.out).toBe("1777 directory\ndata\n/dev/shm tmpfs\n/dev/mqueue mqueue\n");
  });
});

describe.skipIf(!canRunContainers)(`sysctl and domainname${SKIP_REASON}`, () => {
  test("net.ipv4.ip_forward in the new netns and kernel.shm_rmid_forced in the new ipc ns; the host's stay", async () => {
    const hostForward = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
    const hostShm = readFileSync("/proc/sys/kernel/shm_rmid_forced", "utf8");
    const want = { forward: hostForward.trim() === "1" ? "0" : "1", shm: hostShm.trim() === "1" ? "0" : "1" };
    const r = await run("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced", (s) => {
      s.linux!.sysctl = { "net.ipv4.ip_forward": want.forward, "kernel.shm_rmid_forced": want.shm };
    });
    expect(r.out).toBe(`${want.forward}\n${want.shm}\n`);
    expect(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8")).toBe(hostForward);
    expect(readFileSync("/proc/sys/kernel/shm_rmid_forced", "utf8")).toBe(hostShm);
  });

  test("a sysctl key that could leave /proc/sys is refused at create, naming it; nothing is left", async () => {
    for (const key of ["kernel/../../etc/x", "..kernel.x", "net..ipv4", "kernel.x."]) {
      const spec = defaultSpec(["true"]);
      spec.linux!.sysctl = { [key]: "1" };
      const b = makeBundle(spec);
      try {
        const id = uniqueId("sysctl");
        const err = await bunrunc.create({ root: b.root, id, bundle: b.bundle }).catch((e: Error) => e);
        expect((err as Error).message).toBe(`create: linux.sysctl[${JSON.stringify(key)}]: not a sysctl key (dot-separated names, no "/" or empty parts)`);
        expect(existsSync(join(b.root, id))).toBe(false);
      } finally {
        b.cleanup();
      }
    }
  });

  test("hostname and domainname are the container's", async () => {
    const r = await run("hostname; cat /proc/sys/kernel/domainname", (s) => {
      s.hostname = "box";
      s.domainname = "example.test";
    });
    expect(r.out).toBe("box\nexample.test\n");
  });
});
