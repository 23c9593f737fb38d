// The 2025 runc advisory classes, tried as an attacker would with a rootfs, a volume or a second
// container: masks through a planted /dev/null (CVE-2025-31133), procfs writes redirected by a
// volume or a rootfs over /proc (CVE-2025-52881), a planted /dev/console (CVE-2025-52565), and
// a path component swapped while creates mount into a shared volume (CVE-2021-30465's race).
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, PROBE, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, cleanRuns, SKIP_REASON, withOut } from "./container-helper.ts";
import { canRunFront, front, PATHS, pathSkip, peerPidfds, SERVED, serverUp } from "../helpers/front.ts";

const run = cleanRuns();
const CORE_PATTERN = readFileSync("/proc/sys/kernel/core_pattern", "utf8");

/** runIn, but a failed create is an answer too: the error's message, or what the process printed. */
async function attempt(cmd: string, edit: (s: Spec, b: TestBundle) => void): Promise<{ error?: string; out: string; b?: TestBundle }> {
  let bundle: TestBundle | undefined;
  try {
    const r = await run(cmd, (s, b) => {
      bundle = b;
      edit(s, b);
    });
    return { out: r.out, b: r.b };
  } catch (e) {
    return { error: (e as Error).message, out: "", b: bundle };
  }
}

const withoutDevTmpfs = (s: Spec) => {
  s.mounts = s.mounts!.filter((m) => m.destination !== "/dev");
};

/** A host dir (a "volume") with the given files, made under the test's temp dir. */
function volume(b: TestBundle, name: string, files: Record<string, string>): string {
  const dir = join(b.dir, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const readAll = (dir: string, files: string[]) => files.map((f) => readFileSync(join(dir, f), "utf8"));

describe.skipIf(!canRunContainers)(`masks through a planted /dev/null (CVE-2025-31133 class)${SKIP_REASON}`, () => {
  const masked = "cat /proc/keys /proc/timer_list; echo end";

  test("no /dev tmpfs, the rootfs's dev/null -> /proc/sys/kernel/core_pattern: create fails naming /dev/null", async () => {
    const r = await attempt(masked, (s, b) => {
      withoutDevTmpfs(s);
      symlinkSync("/proc/sys/kernel/core_pattern", join(b.rootfs, "dev/null"));
    });
    expect(r.out).not.toContain(CORE_PATTERN.trim());
    expect(r.error).toBe("create: create device /dev/null: /dev/null already exists in the rootfs as a symlink, not the device asked for");
  });

  test("a /dev tmpfs, then a volume's file mounted at /dev/null: create fails naming it; the file takes no mask", async () => {
    let vol = "";
    const r = await attempt(`${masked}; echo written > /proc/keys`, (s, b) => {
      vol = volume(b, "vol", { "fake-null": "PLANTED\n" });
      s.mounts!.push({ destination: "/dev/null", type: "bind", source: join(vol, "fake-null"), options: ["bind"] });
    });
    expect(r.out).not.toContain("PLANTED");
    expect(readAll(vol, ["fake-null"])).toEqual(["PLANTED\n"]);
    expect(r.error).toBe("create: create device /dev/null: /dev/null already exists in the rootfs as a regular file, not the device asked for");
  });

  test("/dev bound from a volume whose null -> /proc/sys/kernel/core_pattern: the masks refuse it by name", async () => {
    const r = await attempt(masked, (s, b) => {
      const dev = volume(b, "devvol", {});
      symlinkSync("/proc/sys/kernel/core_pattern", join(dev, "null"));
      s.mounts = s.mounts!.filter((m) => !m.destination.startsWith("/dev"));
      s.mounts.push({ destination: "/dev", type: "bind", source: dev, options: ["rbind"] });
    });
    expect(r.out).not.toContain(CORE_PATTERN.trim());
    // The first masked file this kernel has (/proc/kcore where it exists, else /proc/keys).
    expect(r.error).toMatch(/^create: mask \/proc\/(kcore|keys): \/dev\/null is a symlink, not the null device \(char 1:3\)$/);
  });

  test("the real /dev/null masks files (empty, writes discarded) and an empty read-only tmpfs masks dirs", async () => {
    const r = await run("wc -c < /proc/keys; echo x > /proc/keys && echo write-ok; ls /proc/acpi | wc -l; touch /proc/acpi/x 2>&1 | grep -c Read-only");
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toEqual(["0", "write-ok", "0", "1"]);
  });
});

describe.skipIf(!canRunContainers)(`procfs writes redirected (CVE-2025-52881 class)${SKIP_REASON}`, () => {
  // What the init writes, as files of a fake procfs (relative to /proc).
  const FAKE_PROC = {
    "thread-self/attr/apparmor/exec": "",
    "thread-self/attr/exec": "",
    "sys/net/ipv4/ip_forward": "",
    "self/oom_score_adj": "",
    "keys": "",
  };
  const fakeFiles = Object.keys(FAKE_PROC);
  /** No procfs at /proc (nor masks over it), and the rootfs's own empty files where the kernel's would be. */
  const plantProcFiles = (s: Spec, rootfs: string) => {
    s.mounts = s.mounts!.filter((m) => m.destination !== "/proc");
    s.linux!.maskedPaths = [];
    s.linux!.readonlyPaths = [];
    for (const f of fakeFiles) {
      mkdirSync(dirname(join(rootfs, "proc", f)), { recursive: true });
      writeFileSync(join(rootfs, "proc", f), "");
    }
  };
  const asks = (s: Spec) => {
    s.process!.apparmorProfile = "bunrunc-attack";
    s.process!.oomScoreAdj = 500;
    s.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
  };

  test("a volume mounted at /foo where the rootfs has foo -> /proc (apparmorProfile, sysctl, oomScoreAdj): refused, the volume untouched", async () => {
    let vol = "";
    const r = await attempt("echo ran", (s, b) => {
      vol = volume(b, "procvol", FAKE_PROC);
      symlinkSync("/proc", join(b.rootfs, "foo"));
      s.mounts!.push({ destination: "/foo", type: "bind", source: vol, options: ["rbind"] });
      asks(s);
    });
    expect(readAll(vol, fakeFiles)).toEqual(fakeFiles.map(() => ""));
    expect(r.out).toBe("");
    expect(r.error).toBe(`create: mount ${vol} on /foo: the destination resolves onto the container's /proc: only procfs may be mounted there`);
  });

  test("the same volume bound over a file inside /proc: refused (only procfs, or lxcfs's files, go there)", async () => {
    let vol = "";
    const r = await attempt("echo ran", (s, b) => {
      vol = volume(b, "procvol", FAKE_PROC);
      symlinkSync("/proc/sys/net/ipv4", join(b.rootfs, "net"));
      s.mounts!.push({ destination: "/net/ip_forward", type: "bind", source: join(vol, "sys/net/ipv4/ip_forward"), options: ["bind"] });
      asks(s);
    });
    expect(readAll(vol, fakeFiles)).toEqual(fakeFiles.map(() => ""));
    expect(r.error).toBe(`create: mount ${vol}/sys/net/ipv4/ip_forward on /net/ip_forward: the destination resolves into the container's procfs: only procfs may be mounted there`);
  });

  test("a tmpfs at /sys reached through a rootfs symlink is refused", async () => {
    const r = await attempt("echo ran", (s, b) => {
      symlinkSync("/sys", join(b.rootfs, "s"));
      s.mounts!.push({ destination: "/s", type: "tmpfs", source: "tmpfs" });
    });
    expect(r.error).toBe("create: mount tmpfs on /s: the destination resolves onto the container's /sys: only sysfs may be mounted there");
  });

  test("no procfs at /proc, the rootfs plants its files: sysctl and oomScoreAdj reach the real procfs, the planted files stay", async () => {
    const r = await attempt("echo ran; cat /proc/self/oom_score_adj", (s, b) => {
      plantProcFiles(s, b.rootfs);
      s.process!.oomScoreAdj = 500;
      s.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
    });
    expect(r.error).toBeUndefined();
    expect(r.out).toBe("ran\n");
    expect(readAll(join(r.b!.rootfs, "proc"), fakeFiles)).toEqual(fakeFiles.map(() => ""));
  });

  test("no procfs at /proc, the rootfs plants the label file: the AppArmor write goes to the real procfs (refused here), never the rootfs", async () => {
    const r = await attempt("echo ran", (s, b) => {
      plantProcFiles(s, b.rootfs);
      s.process!.apparmorProfile = "bunrunc-attack";
    });
    expect(readAll(join(r.b!.rootfs, "proc"), fakeFiles)).toEqual(fakeFiles.map(() => ""));
    expect(r.out).toBe("");
    // Without AppArmor the kernel refuses the label (and with it, the profile is not loaded).
    expect(r.error).toMatch(/^create: apply AppArmor profile bunrunc-attack: write \/proc\/thread-self\/attr\/(apparmor\/)?exec: (invalid argument|no such file or directory)$/);
  });
});

describe.skipIf(!canRunContainers)(`exec into a container that covered its own /proc (CVE-2025-52881 class)${SKIP_REASON}`, () => {
  test("the exec's oom_score_adj reaches the real procfs, never the tmpfs the container put over /proc", async () => {
    const spec = defaultSpec();
    const b = makeBundle(spec);
    const id = uniqueId("cover");
    try {
      const out = withOut(spec, b);
      const caps = [...spec.process!.capabilities!.bounding!, "CAP_SYS_ADMIN"];
      spec.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
      spec.process!.oomScoreAdj = 300;
      spec.process!.args = ["sh", "-c", "mount -t tmpfs none /proc && mkdir -p /proc/self && : > /proc/self/oom_score_adj && touch /out/ready && sleep 60"];
      b.writeSpec(spec);
      await bunrunc.create({ root: b.root, id, bundle: b.bundle });
      await bunrunc.start({ root: b.root, id });
      for (let i = 0; !existsSync(join(out, "ready")); i++) {
        if (i > 2500) throw new Error("the container never covered its /proc");
        await Bun.sleep(2);
      }
      const code = await bunrunc.exec({ root: b.root, id, args: ["sh", "-c", "wc -c < /proc/self/oom_score_adj > /out/fake"] });
      expect(code).toBe(0);
      expect(readFileSync(join(out, "fake"), "utf8").trim()).toBe("0");
    } finally {
      await bunrunc.delete({ root: b.root, id, force: true }).catch(() => {});
      b.cleanup();
    }
  });
});

describe.skipIf(!canRunContainers)(`/dev/console (CVE-2025-52565 class)${SKIP_REASON}`, () => {
  const consoleInfo = "stat -c '%F %t' /dev/console; tty; grep -c ' /dev/console ' /proc/self/mountinfo";

  test("terminal: /dev/console is the container's pty, bound onto a file in the /dev tmpfs", async () => {
    const r = await run(consoleInfo, (s, b) => {
      s.process!.terminal = true;
      symlinkSync("busybox", join(b.rootfs, "bin/tty"));
    });
    expect(r.code).toBe(0);
    const [kind, tty, mounts] = r.out.trim().split("\n");
    // Unix98 pty slaves are major 136 (0x88).
    expect(kind).toBe("character special file 88");
    expect(tty).toMatch(/^\/dev\/pts\/\d+$/);
    expect(mounts).toBe("1");
  });

  test("terminal, no /dev tmpfs, the rootfs's dev/console -> a volume file: the pty is bound on a fresh file, the volume file is untouched", async () => {
    let vol = "";
    const r = await run(`${consoleInfo}; grep -c victim /proc/self/mountinfo; cat /vol/victim`, (s, b) => {
      withoutDevTmpfs(s);
      s.process!.terminal = true;
      symlinkSync("busybox", join(b.rootfs, "bin/tty"));
      vol = volume(b, "convol", { victim: "VICTIM\n" });
      s.mounts!.push({ destination: "/vol", type: "bind", source: vol, options: ["rbind"] });
      symlinkSync("/vol/victim", join(b.rootfs, "dev/console"));
    });
    expect(r.code).toBe(0);
    const [kind, , mounts, victimMounts, victim] = r.out.trim().split("\n");
    expect(kind).toBe("character special file 88");
    expect(mounts).toBe("1");
    expect(victimMounts).toBe("0");
    expect(victim).toBe("VICTIM");
    expect(readFileSync(join(vol, "victim"), "utf8")).toBe("VICTIM\n");
  });
});

describe.skipIf(!canRunContainers || !existsSync(PROBE))(`a second container swaps a path component while creates mount into a shared volume${SKIP_REASON}`, () => {
  test(">= 200 creates race renameat2(RENAME_EXCHANGE) of a dir and a symlink out: nothing lands outside the rootfs", async () => {
    const spec = defaultSpec();
    const b = makeBundle(spec);
    const swapperId = uniqueId("swapper");
    let swapper: ReturnType<typeof Bun.spawn> | undefined;
    try {
      // The shared volume: d (a dir) and l (a symlink that, followed on the host, leads to
      // `outside`) trade places as fast as the second container can swap them.
      const vol = join(b.dir, "shared");
      const outside = join(b.dir, "outside");
      mkdirSync(join(vol, "d"), { recursive: true });
      mkdirSync(outside);
      symlinkSync(`../../../../../../../../../../..${outside}`, join(vol, "l"));
      spec.process!.args = ["sh", "-c", "/probe exchange /vol d l > /out/swaps"];
      const out = join(b.dir, "out");
      mkdirSync(out);
      spec.mounts!.push({ destination: "/vol", type: "bind", source: vol, options: ["rbind"] }, { destination: "/out", type: "bind", source: out, options: ["rbind"] });
      b.writeSpec(spec);
      swapper = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "--root", b.root, "run", "--bundle", b.bundle, swapperId], { stdout: "ignore", stderr: "pipe", env: { ...process.env, BUNRUNC_SERVER: "off" } });
      for (let i = 0; !existsSync(join(vol, "started")); i++) {
        if (i > 5000) throw new Error("the swapper never started");
        await Bun.sleep(2);
      }
      const roSource = join(b.dir, "ro-src");
      mkdirSync(roSource);
      const outcomes = new Map<string, number>();
      const writable: string[] = [];
      for (let i = 0; i < 200; i++) {
        const r = await attempt("cat /proc/self/mountinfo", (s) => {
          s.mounts!.push(
            { destination: "/vol", type: "bind", source: vol, options: ["rbind"] },
            { destination: `/vol/d/m${i}`, type: "tmpfs", source: "tmpfs" },
            { destination: `/vol/d/b${i}`, type: "bind", source: roSource, options: ["bind", "ro"] },
          );
        });
        const key = r.error ?? "ok";
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        // The read-only bind, wherever inside the rootfs the swap sent it, is read-only: its
        // remount must never have gone to another path.
        for (const line of r.out.split("\n")) {
          const f = line.split(" ");
          if (f[3]?.endsWith("/ro-src") && !f[5]?.startsWith("ro")) writable.push(line);
        }
      }
      writeFileSync(join(vol, "stop"), "");
      expect(await swapper.exited).toBe(0);
      const swaps = Number(readFileSync(join(out, "swaps"), "utf8"));
      expect(swaps).toBeGreaterThan(200);
      // On the host: nothing was made through the symlink, no mount appeared under the bundle's dir.
      expect(readdirSync(outside)).toEqual([]);
      expect(readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(outside))).toEqual([]);
      // Every create ended; the ones that lost a race to a swap say so, none hung or escaped.
      for (const key of outcomes.keys()) expect(key).toMatch(/^(ok|create: .*)$/);
      expect(writable).toEqual([]);
      expect(outcomes.get("ok") ?? 0).toBeGreaterThan(0);
    } finally {
      swapper?.kill();
      await bunrunc.delete({ root: b.root, id: swapperId, force: true }).catch(() => {});
      b.cleanup();
    }
  }, 300_000);
});

// Engines exec dist/bunrunc: the same attacks through the front, served by the resident server
// and direct (BUNRUNC_SERVER=off), fail the same way.
const hasFront = canRunFront;

describe.skipIf(!canRunContainers || !hasFront)(`the attacks through dist/bunrunc, served and direct${SKIP_REASON}${hasFront ? "" : " [skipped: needs scripts/build.sh]"}`, () => {
  const attacks: [string, (s: Spec, b: TestBundle) => void, (b: TestBundle) => string][] = [
    [
      "planted /dev/null",
      (s, b) => {
        withoutDevTmpfs(s);
        symlinkSync("/proc/sys/kernel/core_pattern", join(b.rootfs, "dev/null"));
      },
      () => "create: create device /dev/null: /dev/null already exists in the rootfs as a symlink, not the device asked for",
    ],
    [
      "/proc-covering volume with apparmorProfile",
      (s, b) => {
        const vol = volume(b, "procvol", { "thread-self/attr/exec": "" });
        symlinkSync("/proc", join(b.rootfs, "foo"));
        s.mounts!.push({ destination: "/foo", type: "bind", source: vol, options: ["rbind"] });
        s.process!.apparmorProfile = "bunrunc-attack";
      },
      (b) => `create: mount ${join(b.dir, "procvol")} on /foo: the destination resolves onto the container's /proc: only procfs may be mounted there`,
    ],
  ];
  for (const [name, edit, message] of attacks) {
    test(`${name}: refused with one line, served and direct${peerPidfds ? "" : pathSkip("served")}`, () => {
      const spec = defaultSpec(["true"]);
      const b = makeBundle(spec);
      try {
        edit(spec, b);
        b.writeSpec(spec);
        for (const path of PATHS) {
          if (path === "served" && !peerPidfds) continue; // said in the name
          if (path === "served") serverUp(b.root);
          const r = front(path, ["--debug", "--root", b.root, "run", "--bundle", b.bundle, uniqueId("front")]);
          expect(r.code).toBe(1);
          expect(r.stderr.includes(SERVED)).toBe(path === "served");
          const last = r.stderr.trim().split("\n").at(-1)!;
          expect(last).toContain(message(b));
        }
        if (name.includes("volume")) expect(readFileSync(join(b.dir, "procvol/thread-self/attr/exec"), "utf8")).toBe("");
        expect(readdirSync(b.root)).toEqual([]);
      } finally {
        b.cleanup();
      }
    });
  }
});
