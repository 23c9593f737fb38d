// A throwaway unprivileged user for the rootless tests: made with useradd under a unique name,
// its home and runtime dir in a temp dir, and removed with everything it ran (userdel also drops
// its /etc/subuid and /etc/subgid lines). Commands run as it through setpriv, with a login's
// environment (HOME, USER, XDG_RUNTIME_DIR, PATH) and nothing of root's.
import { chmodSync, chownSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { busyboxRootfs } from "../helpers/bundle.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const FRONT = join(REPO, "dist/bunrunc");

const SETPRIV = Bun.which("setpriv") ?? "setpriv";
const have = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
const built = (() => {
  try {
    return statSync(FRONT).isFile() && statSync(`${FRONT}-core`).isFile();
  } catch {
    return false;
  }
})();

/**
 * dist/bunrunc (and its core beside it) where `user` can run it: the checkout may sit under a
 * directory only root may enter (a CI clone in /root or in a 0700 temp dir), so the user runs a
 * copy in its own 0755 test dir, removed with the user. A copy is another binary to the front
 * (its server socket is named by the core's identity): a user's front that tried to reach a
 * server would still show a connect under /run/bunrunc-core/.
 */
export function userFront(user: Pick<TestUser, "dir">): string {
  const bin = join(user.dir, "bin");
  if (!existsSync(join(bin, "bunrunc"))) {
    mkdirSync(bin, { mode: 0o755 });
    for (const name of ["bunrunc", "bunrunc-core"]) {
      copyFileSync(join(REPO, "dist", name), join(bin, name));
      chmodSync(join(bin, name), 0o755);
    }
  }
  return join(bin, "bunrunc");
}

/** Why these tests cannot run here ("" when they can): root makes the user, the user runs dist/. */
export const SKIP_REASON = process.getuid?.() !== 0 ? "needs root (to make a test user)" : !have("useradd") || !have("setpriv") ? "needs useradd and setpriv" : !built ? "needs dist/bunrunc (bash scripts/build.sh)" : "";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  stdin?: string;
  cgroup?: string;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** The temp dir holding home/, run/ (XDG_RUNTIME_DIR) and whatever the test puts there. */
  dir: string;
  home: string;
  runtimeDir: string;
  /** Its /etc/subuid and /etc/subgid ranges (empty without subordinate ids). */
  subuid: { start: number; count: number } | undefined;
  subgid: { start: number; count: number } | undefined;
  /** The environment a login would give it (+ extra). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** argv run as the user, stdio to files (a detached container keeps them), bounded in time. */
  /** `cgroup`: a cgroup v2 directory root moves the command into before it becomes the user (a delegated one's leaf). */
  run(argv: string[], opts?: RunOptions): Result;
  /** `dist/bunrunc` + args as the user. */
  bunrunc(args: string[], opts?: RunOptions): Result;
  /** Makes `path` (and everything under it) the user's. */
  give(path: string): void;
  /** pids of processes running as the user right now. */
  processes(): number[];
  remove(): void;
}

const RUN_TIMEOUT_MS = 60_000;
let made = 0;

/** A new user; `subIds` gives it useradd's default subordinate ranges (65536 ids each). */
export function makeTestUser(opts: { subIds?: boolean } = {}): TestUser {
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-rootless-"));
  chmodSync(dir, 0o755);
  // useradd: at most 32 characters, a lowercase letter first.
  const name = `brl${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}${(made++).toString(36)}`;
  const home = join(dir, "home");
  const noSub = opts.subIds ? [] : ["-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0"];
  const add = Bun.spawnSync(["useradd", "-M", "-d", home, "-s", "/bin/sh", "-U", ...noSub, name], { stderr: "pipe" });
  if (add.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`useradd ${name}: ${add.stderr.toString().trim()}`);
  }
  const uid = Number(Bun.spawnSync(["id", "-u", name]).stdout.toString());
  const gid = Number(Bun.spawnSync(["id", "-g", name]).stdout.toString());
  const runtimeDir = join(dir, "run");
  for (const d of [home, runtimeDir]) {
    mkdirSync(d);
    chownSync(d, uid, gid);
    chmodSync(d, 0o700);
  }
  const range = (file: string) => {
    const text = existsSync(file) ? readFileSync(file, "utf8") : ""; // the VM tier's /etc has none
    for (const line of text.split("\n")) {
      const [who, start, count] = line.split(":");
      if (who === name || who === String(uid)) return { start: Number(start), count: Number(count) };
    }
    return undefined;
  };
  let outputs = 0;
  const user: TestUser = {
    name,
    uid,
    gid,
    dir,
    home,
    runtimeDir,
    subuid: range("/etc/subuid"),
    subgid: range("/etc/subgid"),
    env: (extra = {}) => ({ HOME: home, USER: name, LOGNAME: name, XDG_RUNTIME_DIR: runtimeDir, PATH: "/usr/local/bin:/usr/bin:/bin", ...extra }),
    run(argv, o = {}) {
      const out = join(dir, `out-${outputs}`);
      const err = join(dir, `err-${outputs++}`);
      const fds = [openSync(out, "w+", 0o600), openSync(err, "w+", 0o600)];
      try {
        const asUser = [SETPRIV, `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--", ...argv];
        const inCgroup = o.cgroup ? ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', o.cgroup] : [];
        const r = Bun.spawnSync([...inCgroup, ...asUser], {
          cwd: o.cwd ?? home,
          env: o.env ?? user.env(),
          stdin: o.stdin === undefined ? "ignore" : Buffer.from(o.stdin),
          stdout: fds[0],
          stderr: fds[1],
          timeout: RUN_TIMEOUT_MS,
          killSignal: "SIGKILL",
        });
        return { code: r.exitCode ?? 128 + 9, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
      } finally {
        for (const fd of fds) closeSync(fd);
        rmSync(out, { force: true });
        rmSync(err, { force: true });
      }
    },
    bunrunc: (args, o = {}) => user.run([userFront(user), ...args], o),
    give(path) {
      Bun.spawnSync(["chown", "-R", "-h", `${uid}:${gid}`, path]);
    },
    processes() {
      // Its own uid, or one of its subordinate uids (fresh, so no one else's): its containers'.
      const mine = (u: number) => u === uid || (user.subuid !== undefined && u >= user.subuid.start && u < user.subuid.start + user.subuid.count);
      const pids: number[] = [];
      for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
          const status = readFileSync(`/proc/${p}/status`, "utf8");
          // A zombie has exited: on a host whose PID 1 never reaps (this one's), orphans stay so.
          if (/^State:\s+Z/m.test(status)) continue;
          const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
          if (real !== undefined && mine(Number(real))) pids.push(Number(p));
        } catch {}
      }
      return pids;
    },
    remove() {
      // Whatever a failed test left running as this user (only it: its uid is new and unique).
      for (const pid of user.processes()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      // A container's leftover mounts in our namespace (none when the test passed).
      for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
        const mp = line.split(" ")[4];
        if (mp?.startsWith(dir)) Bun.spawnSync(["umount", "-l", mp], { stderr: "ignore" });
      }
      Bun.spawnSync(["userdel", name], { stderr: "ignore" });
      Bun.spawnSync(["groupdel", name], { stderr: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return user;
}

/** Mount points under `dir` in this (the host's) mount namespace. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => mp.startsWith(dir));
}

/** argv as the user, not waited for (a console-socket receiver). */
export function spawnAs(user: TestUser, argv: string[]) {
  return Bun.spawn([SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "--", ...argv], { env: user.env(), cwd: user.home, stdout: "pipe", stderr: "pipe" });
}

/** A busybox bundle directory (rootfs only; the test writes config.json) owned by the user. */
export function userBundle(user: TestUser, name = "bundle"): { bundle: string; rootfs: string } {
  const bundle = join(user.dir, name);
  const rootfs = join(bundle, "rootfs");
  mkdirSync(bundle);
  busyboxRootfs(rootfs);
  user.give(bundle);
  return { bundle, rootfs };
}
