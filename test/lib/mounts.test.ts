// Mounts as the container's mountinfo and file operations show them: bind vs rbind, ro/rw,
// nosuid/nodev/noexec, the atime family, propagation options, recursive r* options through
// mount_setattr, nosymfollow, tmpcopyup, and destinations that try to leave the rootfs.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SpecMount } from "../../src/config/types.ts";
import { canRunContainers, cleanRuns, SKIP_REASON } from "./container-helper.ts";

const run = cleanRuns();

interface MountLine {
  options: string[];
  optional: string[];
  fstype: string;
  superOptions: string[];
}

function mountinfo(text: string): Map<string, MountLine> {
  const out = new Map<string, MountLine>();
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0) continue;
    // The last mount on a point wins, as path lookup sees it.
    out.set(f[4]!, { options: f[5]!.split(","), optional: f.slice(6, sep), fstype: f[sep + 1]!, superOptions: (f[sep + 3] ?? "").split(",") });
  }
  return out;
}

/** A host dir with a tmpfs mounted at sub/ (holding sub/file); returns the dir. */
function hostTreeWithSubmount(dir: string): string {
  mkdirSync(join(dir, "sub"), { recursive: true });
  writeFileSync(join(dir, "top-file"), "top\n");
  expect(Bun.spawnSync(["mount", "-t", "tmpfs", "tmpfs", join(dir, "sub")]).exitCode).toBe(0);
  writeFileSync(join(dir, "sub/file"), "sub\n");
  return dir;
}

/** Runs with a host tree (with a submount) made for the test; unmounts it before cleanup. */
async function withHostTree(cmd: string, mounts: (tree: string) => SpecMount[]) {
  let tree = "";
  try {
    return await run(cmd, (s, b) => {
      tree = hostTreeWithSubmount(join(b.dir, "tree"));
      s.mounts!.push(...mounts(tree));
    });
  } finally {
    if (tree) Bun.spawnSync(["umount", join(tree, "sub")]);
  }
}

describe.skipIf(!canRunContainers)(`mounts${SKIP_REASON}`, () => {
  test("bind leaves the host's submounts out, rbind brings them in", async () => {
    const r = await withHostTree("cat /b/top-file; ls /b/sub | wc -l; cat /rb/sub/file", (tree) => [
      { destination: "/b", type: "bind", source: tree, options: ["bind"] },
      { destination: "/rb", type: "bind", source: tree, options: ["rbind"] },
    ]);
    expect(r.out).toBe("top\n0\nsub\n");
  });

  test("ro/rw, nosuid, nodev, noexec and the atime family on tmpfs and bind mounts", async () => {
    const r = await withHostTree("cat /proc/self/mountinfo; touch /ro/x 2>&1; touch /rw/x && echo rw-ok", (tree) => [
      { destination: "/ro", type: "tmpfs", source: "tmpfs", options: ["ro", "nosuid", "nodev", "noexec", "noatime"] },
      { destination: "/rw", type: "tmpfs", source: "tmpfs", options: ["ro", "rw", "strictatime", "nodiratime"] },
      { destination: "/rel", type: "tmpfs", source: "tmpfs", options: ["relatime", "suid", "dev", "exec"] },
      { destination: "/bro", type: "bind", source: tree, options: ["bind", "ro", "nosuid", "noexec", "noatime"] },
    ]);
    const m = mountinfo(r.out);
    expect(m.get("/ro")!.options).toEqual(["ro", "nosuid", "nodev", "noexec", "noatime"]);
    // strictatime shows as the absence of relatime/noatime.
    expect(m.get("/rw")!.options).toEqual(["rw", "nodiratime"]);
    expect(m.get("/rel")!.options).toEqual(["rw", "relatime"]);
    expect(m.get("/bro")!.options).toEqual(["ro", "nosuid", "noexec", "noatime"]);
    expect(r.out).toContain("Read-only file system");
    expect(r.out).toContain("rw-ok");
  });

  test("propagation options: shared, private, unbindable on a mount", async () => {
    const r = await run("cat /proc/self/mountinfo", (s) => {
      s.mounts!.push(
        { destination: "/sh", type: "tmpfs", source: "tmpfs", options: ["shared"] },
        { destination: "/pr", type: "tmpfs", source: "tmpfs", options: ["rshared", "private"] },
        { destination: "/ub", type: "tmpfs", source: "tmpfs", options: ["unbindable"] },
      );
    });
    const m = mountinfo(r.out);
    expect(m.get("/sh")!.optional.join(" ")).toMatch(/^shared:\d+$/);
    expect(m.get("/pr")!.optional).toEqual([]);
    expect(m.get("/ub")!.optional).toEqual(["unbindable"]);
  });

  test("recursive options (rro, rnosuid, rnoexec, rnoatime) reach submounts; plain ro stays on top", async () => {
    const r = await withHostTree("cat /proc/self/mountinfo", (tree) => [
      { destination: "/rr", type: "bind", source: tree, options: ["rbind", "rro", "rnosuid", "rnoexec", "rnoatime"] },
      { destination: "/top", type: "bind", source: tree, options: ["rbind", "ro"] },
    ]);
    const m = mountinfo(r.out);
    for (const point of ["/rr", "/rr/sub"]) expect(m.get(point)!.options).toEqual(["ro", "nosuid", "noexec", "noatime"]);
    expect(m.get("/top")!.options[0]).toBe("ro");
    expect(m.get("/top/sub")!.options[0]).toBe("rw");
  });

  test("nosymfollow (and rnosymfollow) refuse to follow symlinks on the mount", async () => {
    const r = await withHostTree(
      "busybox ln -s /etc/passwd /nsf/link; head -1 /nsf/link; echo rc=$?; head -1 /rn/sub/link; echo rc=$?; grep -c nosymfollow /proc/self/mountinfo",
      (tree) => {
        symlinkSync("/etc/passwd", join(tree, "sub/link"));
        return [
          { destination: "/nsf", type: "tmpfs", source: "tmpfs", options: ["nosymfollow"] },
          { destination: "/rn", type: "bind", source: tree, options: ["rbind", "rnosymfollow"] },
        ];
      },
    );
    expect(r.out).toContain("Too many levels of symbolic links");
    expect(r.out.match(/rc=1/g)?.length).toBe(2);
    expect(r.out.trim().split("\n").at(-1)).toBe("3");
  });

  test("tmpcopyup: a tmpfs over /etc keeps what /etc held, writes stay off the rootfs", async () => {
    const r = await run("cat /etc/passwd | head -1; ls -l /etc/group | busybox cut -c1-10; echo new > /etc/new && cat /etc/new", (s) => {
      s.mounts!.push({ destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "mode=755"] });
    });
    expect(r.code).toBe(0);
    expect(r.out).toBe("root:x:0:0:root:/root:/bin/sh\n-rw-r--r--\nnew\n");
    expect(existsSync(join(r.b.rootfs, "etc/new"))).toBe(false);
  });

  test("a destination through a symlink pointing out of the rootfs stays inside (CVE-2021-30465 class)", async () => {
    let hostDir = "";
    const before = readFileSync("/proc/self/mountinfo", "utf8");
    const r = await run("cat /proc/self/mountinfo; ls -d /escape-target/x /escape-target/y /escape-target/z", (s, b) => {
      hostDir = join(b.dir, "host-dir");
      mkdirSync(hostDir);
      // Absolute and relative links that would lead to hostDir if followed on the host.
      symlinkSync(hostDir, join(b.rootfs, "evil"));
      symlinkSync(`../../../../../../../../..${hostDir}`, join(b.rootfs, "evil-rel"));
      s.mounts!.push(
        { destination: "/evil/x", type: "tmpfs", source: "tmpfs" },
        { destination: "/evil-rel/y", type: "tmpfs", source: "tmpfs" },
        { destination: `/../../..${hostDir}/z`, type: "tmpfs", source: "tmpfs" },
      );
      // The same path inside the rootfs, so the container can look at where the mounts went.
      symlinkSync(hostDir.slice(1), join(b.rootfs, "escape-target"));
    });
    expect(r.code).toBe(0);
    for (const leaf of ["x", "y", "z"]) expect(existsSync(join(hostDir, leaf))).toBe(false);
    expect(readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(hostDir))).toEqual(before.split("\n").filter((l) => l.includes(hostDir)));
    // Inside, each mount landed at the rootfs-relative path.
    const points = [...mountinfo(r.out).keys()];
    for (const leaf of ["x", "y", "z"]) expect(points).toContain(`${hostDir}/${leaf}`);
  });
});
