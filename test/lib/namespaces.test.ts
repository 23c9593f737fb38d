// Namespaces as the container process sees them: a user namespace with mappings written by the
// runtime, a cgroup namespace rooted at the container's cgroup, a time namespace with offsets,
// and namespaces joined by path (a bind-mounted netns file, /proc/PID/ns of a process we run).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, lchownSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canRunContainers, cleanRuns, inUserNs, SKIP_REASON } from "./container-helper.ts";

const run = cleanRuns();
const HOST_ID = 100000;
const timeNsSupported = existsSync("/proc/self/ns/time");
/** cgroup v2 host (the VM tier): one hierarchy, "0::/path" lines, mounted on /sys/fs/cgroup itself. */
const cgroupV2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
const unshareBin = ["/usr/bin/unshare", "/bin/unshare"].find(existsSync);

/** chown -R without following symlinks: the rootfs belongs to the mapped root. */
function chownTree(path: string, id: number): void {
  lchownSync(path, id, id);
  if (!lstatSync(path).isDirectory()) return;
  for (const e of readdirSync(path)) chownTree(join(path, e), id);
}

/** Processes this file started, ended by pid after each test. */
const started: { pid: number; kill(sig?: number): void; exited: Promise<number> }[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) {
    p.kill(9);
    await p.exited;
  }
});

async function nsHolder(flags: string[], script: string): Promise<number> {
  const p = Bun.spawn([unshareBin!, ...flags, "sh", "-c", `${script}; echo ready; exec sleep 300`], { stdout: "pipe" });
  started.push(p);
  const reader = p.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  expect(new TextDecoder().decode(value)).toContain("ready");
  return p.pid;
}

describe.skipIf(!canRunContainers)(`namespaces${SKIP_REASON}`, () => {
  test("new pid, network, ipc, uts and mount namespaces: pid 1, only lo, none of them the host's", async () => {
    const kinds = ["pid", "net", "ipc", "uts", "mnt"];
    const r = await run(`echo $$; ls /sys/class/net; for n in ${kinds.join(" ")}; do readlink /proc/self/ns/$n; done`);
    const lines = r.out.trim().split("\n");
    expect(lines.slice(0, 2)).toEqual(["1", "lo"]);
    const host = kinds.map((n) => readlinkSync(`/proc/self/ns/${n}`));
    lines.slice(2).forEach((ns, i) => {
      expect(ns).toStartWith(`${kinds[i]}:[`);
      expect(ns).not.toBe(host[i]);
    });
  });

  test("user namespace: root is mapped to 100000, the maps were written, files get the host owner", async () => {
    const r = await run("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c %u:%g /bin/busybox; touch /out/made-inside", (s, b) => {
      inUserNs(s, b, HOST_ID);
    });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    expect(lines.slice(0, 2)).toEqual([`0 ${HOST_ID} 65536`, `0 ${HOST_ID} 65536`]);
    // Inside, the rootfs owned by 100000 on the host is root's.
    expect(lines.slice(2)).toEqual(["0", "0", "0:0"]);
    const made = statSync(join(r.b.dir, "out/made-inside"));
    expect([made.uid, made.gid]).toEqual([HOST_ID, HOST_ID]);
  });

  test("cgroup namespace: the container's cgroup is / in /proc/self/cgroup and in fresh cgroup mounts", async () => {
    const r = await run(`cat /proc/self/cgroup; echo ---; grep ' /sys/fs/cgroup${cgroupV2 ? " " : "/"}' /proc/self/mountinfo`, (s) => {
      s.linux!.namespaces!.push({ type: "cgroup" });
    });
    expect(r.code).toBe(0);
    const [cgroups, mounts] = r.out.split("---\n");
    const lines = cgroups!.trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\d+:[^:]*:\/$/);
    // Each hierarchy is a fresh mount whose root is the namespace's root.
    const roots = mounts!.trim().split("\n").map((l) => l.split(" ")[3]);
    expect(roots.length).toBeGreaterThan(0);
    expect(new Set(roots)).toEqual(new Set(["/"]));
  });

  test("without a cgroup namespace the container sees its cgroup path", async () => {
    const r = await run(cgroupV2 ? "grep ^0:: /proc/self/cgroup" : "grep pids /proc/self/cgroup", (s) => {
      s.linux!.cgroupsPath = `/bunrunc-test-${process.pid}-nocgns`;
    });
    expect(r.out.trim()).toMatch(new RegExp(`:${cgroupV2 ? "" : "pids"}:/bunrunc-test-${process.pid}-nocgns$`));
  });

  test.skipIf(!timeNsSupported)(`time namespace: boottime and monotonic offsets shift /proc/uptime${timeNsSupported ? "" : " [skipped: kernel without time namespaces]"}`, async () => {
    const shift = 10 * 365 * 86400;
    const r = await run("cat /proc/uptime; cat /proc/self/timens_offsets", (s) => {
      s.linux!.namespaces!.push({ type: "time" });
      s.linux!.timeOffsets = { boottime: { secs: shift, nanosecs: 0 }, monotonic: { secs: shift, nanosecs: 500 } };
    });
    expect(r.code).toBe(0);
    const hostUptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const inside = Number(r.out.split(" ")[0]);
    expect(inside).toBeGreaterThan(shift + hostUptime - 60);
    expect(inside).toBeLessThan(shift + hostUptime + 60);
    expect(r.out).toMatch(new RegExp(`monotonic\\s+${shift}\\s+500`));
  });

  test.skipIf(!timeNsSupported)(`time namespace without offsets: a new namespace, clocks unchanged${timeNsSupported ? "" : " [skipped: kernel without time namespaces]"}`, async () => {
    const r = await run("readlink /proc/self/ns/time; cat /proc/uptime", (s) => {
      s.linux!.namespaces!.push({ type: "time" });
    });
    expect(r.code).toBe(0);
    const [ns, uptime] = r.out.trim().split("\n");
    expect(ns).not.toBe(readlinkSync("/proc/self/ns/time"));
    expect(Math.abs(Number(uptime!.split(" ")[0]) - Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]))).toBeLessThan(60);
  });

  test.skipIf(!unshareBin)(`join a network namespace bind-mounted on a file (ip netns style)${unshareBin ? "" : " [skipped: no unshare(1)]"}`, async () => {
    let nsFile = "";
    try {
      const r = await run("readlink /proc/self/ns/net; cat /sys/class/net/lo/mtu", (s, b) => {
        nsFile = join(b.dir, "netns");
        writeFileSync(nsFile, "");
        const made = Bun.spawnSync([unshareBin!, `--net=${nsFile}`, "true"], { stderr: "pipe" });
        expect(made.stderr.toString()).toBe("");
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: nsFile } : n));
      });
      expect(r.code).toBe(0);
      const inside = r.out.split("\n")[0];
      expect(inside).toBe(`net:[${statSync(nsFile).ino}]`);
      expect(inside).not.toBe(readlinkSync("/proc/self/ns/net"));
    } finally {
      // Before the bundle is removed: the namespace is bind-mounted on a file in it.
      if (nsFile) Bun.spawnSync(["umount", nsFile]);
    }
  });

  test.skipIf(!unshareBin)(`join the uts and ipc namespaces of a running process by /proc/PID/ns${unshareBin ? "" : " [skipped: no unshare(1)]"}`, async () => {
    const pid = await nsHolder(["--uts", "--ipc"], "hostname joined-uts");
    const r = await run("hostname; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc", (s) => {
      delete s.hostname;
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "uts" || n.type === "ipc" ? { type: n.type, path: `/proc/${pid}/ns/${n.type}` } : n));
    });
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toEqual(["joined-uts", readlinkSync(`/proc/${pid}/ns/uts`), readlinkSync(`/proc/${pid}/ns/ipc`)]);
  });

  test.skipIf(!unshareBin || !timeNsSupported)(`join a time namespace by path: its offsets apply${unshareBin && timeNsSupported ? "" : " [skipped: no unshare(1) or time namespaces]"}`, async () => {
    const shift = 5 * 365 * 86400;
    // A new time namespace holds only the children of the process that made it: --fork.
    const pid = await nsHolder(["--time", "--fork", "--kill-child", `--boottime=${shift}`], "true");
    const holder = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim() || String(pid);
    const r = await run("cat /proc/uptime; readlink /proc/self/ns/time", (s) => {
      s.linux!.namespaces!.push({ type: "time", path: `/proc/${holder}/ns/time` });
    });
    expect(r.code).toBe(0);
    const [uptime, ns] = r.out.trim().split("\n");
    expect(Number(uptime!.split(" ")[0])).toBeGreaterThan(shift);
    expect(ns).toBe(readlinkSync(`/proc/${holder}/ns/time`));
  });

  test.skipIf(!unshareBin)(`a hostname is set in a joined uts namespace too (as runc)${unshareBin ? "" : " [skipped: no unshare(1)]"}`, async () => {
    const pid = await nsHolder(["--uts"], "hostname before");
    const r = await run("hostname", (s) => {
      s.hostname = "after";
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "uts" ? { type: "uts", path: `/proc/${pid}/ns/uts` } : n));
    });
    expect(r.out).toBe("after\n");
    expect(Bun.spawnSync(["nsenter", "-t", String(pid), "-u", "hostname"]).stdout.toString()).toBe("after\n");
  });
});
