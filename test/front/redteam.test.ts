// The red team's read of the front's own verbs (zig/front_verbs.zig) and the core paths beside
// them: each case is an attack or a race it found, on real containers.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultSpec, uniqueId } from "../helpers/bundle.ts";
import { encodeFastRecord, type FastRecord } from "../../src/state/fast-record.ts";
import { alive, call, FRONT, Rig, SKIP, STRACE_SKIP } from "./rig.ts";

const rigs: Rig[] = [];
const strays: number[] = [];
afterAll(() => rigs.forEach((r) => r.cleanup()));
afterEach(() => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 9);
    } catch {}
  }
});
const t = SKIP ? test.skip : test;

/** A rig whose containers all get linux.cgroupsPath `path`. */
function rigAt(path: string): Rig {
  const rig = new Rig();
  rigs.push(rig);
  const spec = defaultSpec(["sleep", "1000"]);
  spec.linux = { ...spec.linux!, cgroupsPath: path };
  rig.b.writeSpec(spec);
  return rig;
}

describe(`a cgroup shared with another container${SKIP}`, () => {
  t("create refuses a cgroup that already holds processes (runc 1.2), leaving nothing; the other container lives", () => {
    const path = `/${uniqueId("shared")}`;
    const first = rigAt(path);
    const c1 = first.make("running");
    const init = first.saved(c1).pid;
    const second = rigAt(path);
    for (const fast of [true, false]) {
      const x2 = uniqueId("x2");
      second.ids.push(x2);
      // stderr to a file: an init made anyway must not hold a pipe of ours open.
      const errFile = join(second.b.dir, `stderr-${x2}`);
      const env: Record<string, string | undefined> = { ...process.env, BUNRUNC_SERVER: "off", BUNRUNC_FAST: fast ? undefined : "off" };
      const code = Bun.spawnSync([FRONT, "--root", second.root, "create", "--bundle", second.b.bundle, x2], { env, stdin: "ignore", stdout: "ignore", stderr: Bun.file(errFile) }).exitCode;
      const stderr = readFileSync(errFile, "utf8");
      expect({ code, lines: stderr.trim().split("\n").length }).toEqual({ code: 1, lines: 1 });
      expect(stderr).toContain("linux.cgroupsPath: container's cgroup is not empty: 1 process(es) found in ");
      expect(existsSync(join(second.root, x2))).toBe(false);
    }
    expect(alive(init)).toBe(true);
    expect(first.status(c1)).toBe("running");
  }, 30_000);

  t("delete of a stopped container in its own pid namespace never kills what else is in its cgroup", () => {
    for (const fast of [true, false]) {
      const rig = rigAt(`/${uniqueId("outsider")}`);
      const x2 = rig.make("created");
      // A process put in its cgroup from outside (what a second container there would be).
      const outsider = Bun.spawn(["sleep", "1000"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      strays.push(outsider.pid);
      for (const dir of rig.cgroupDirs(x2)) writeFileSync(join(dir, "cgroup.procs"), String(outsider.pid));
      rig.core(["kill", x2, "KILL"]);
      rig.waitStatus(x2, "stopped");
      const r = call(["--root", rig.root, "delete", x2], fast);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`its cgroup ${rig.cgroupDirs(x2)[0]} holds 1 process(es) outside its pid namespace (not killed)`);
      expect(alive(outsider.pid)).toBe(true);
      expect(rig.status(x2)).toBe("stopped");
      // Once the outsider is gone, the same delete goes through.
      outsider.kill(9);
      for (let i = 0; i < 500 && alive(outsider.pid); i++) Bun.sleepSync(10);
      expect(call(["--root", rig.root, "delete", x2], fast).code).toBe(0);
      expect(existsSync(join(rig.root, x2))).toBe(false);
    }
  }, 30_000);
});

describe(`a record left without its state.json${SKIP}`, () => {
  t("start, state, kill and delete answer as bunrunc-core does (no such container), and nothing is done", () => {
    const rig = new Rig();
    rigs.push(rig);
    const id = rig.make("created");
    const state = join(rig.root, id, "state.json");
    const aside = join(rig.b.dir, "state.json.aside");
    renameSync(state, aside);
    try {
      for (const verb of [["start"], ["state"], ["kill", "KILL"], ["delete"]]) {
        const args = ["--root", rig.root, verb[0]!, id, ...verb.slice(1)];
        const seen = (fast: boolean) => {
          const r = call(args, fast);
          return { ...r, stderr: r.stderr.replace(/time="[^"]*"/g, 'time="T"') };
        };
        const fast = seen(true);
        expect(fast.code).toBe(1);
        expect(fast.stderr).toContain("container does not exist");
        expect(fast).toEqual(seen(false));
      }
      expect(existsSync(join(rig.root, id, "exec.fifo"))).toBe(true);
    } finally {
      renameSync(aside, state);
    }
    expect(rig.status(id)).toBe("created");
  });
});

describe(`bunrunc-core's start and a link planted at exec.fifo${SKIP}`, () => {
  t("start refuses to follow it, and its target is untouched", () => {
    const rig = new Rig();
    rigs.push(rig);
    const id = rig.make("created");
    const fifo = join(rig.root, id, "exec.fifo");
    const real = join(rig.b.dir, "fifo.real");
    const target = join(rig.b.dir, "target");
    writeFileSync(target, "keep");
    renameSync(fifo, real);
    symlinkSync(target, fifo);
    try {
      for (const fast of [true, false]) {
        const r = call(["--root", rig.root, "start", id], fast);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("is a symlink, not the container's fifo");
        expect(readFileSync(target, "utf8")).toBe("keep");
      }
    } finally {
      unlinkSync(fifo);
      renameSync(real, fifo);
    }
    expect(rig.status(id)).toBe("created");
  });
});

describe(`the front's start when the init dies between its open of the fifo and its write${SKIP}${STRACE_SKIP}`, () => {
  const ts = SKIP || STRACE_SKIP ? test.skip : test;
  ts("no death by SIGPIPE: bunrunc-core says the container has stopped, exit 1", async () => {
    const rig = new Rig();
    rigs.push(rig);
    const id = rig.make("created");
    const init = rig.saved(id).pid;
    const dir = mkdtempSync(join(tmpdir(), "bunrunc-strace-"));
    const out = join(dir, "out");
    try {
      // Every write waits 2 s on entry (strace): the init is killed while the front's waits.
      const env: Record<string, string | undefined> = { ...process.env, BUNRUNC_SERVER: "off" };
      delete env.BUNRUNC_FAST;
      delete env.BUNRUNC_TIMING;
      const p = Bun.spawn(["strace", "-f", "-qq", "-o", out, "-e", "trace=write", "-e", "inject=write:delay_enter=2000000", FRONT, "--root", rig.root, "start", id], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      for (let i = 0; i < 1000 && !(existsSync(out) && readFileSync(out, "utf8").includes("write(")); i++) Bun.sleepSync(5);
      process.kill(init, 9);
      const code = await p.exited;
      const stderr = await new Response(p.stderr).text();
      expect({ code, stopped: stderr.includes("cannot start a container that has stopped") }).toEqual({ code: 1, stopped: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

/** The container's record read back (the layout of src/state/fast-record.ts). */
function decodeRecord(bytes: Buffer): FastRecord {
  let at = 32;
  const str = () => {
    const len = bytes.readUInt16LE(at);
    const out = bytes.subarray(at + 2, at + 2 + len).toString();
    at += 2 + len;
    return out;
  };
  const freezerFile = str();
  const cgroupDirs = Array.from({ length: bytes[26]! }, str);
  return {
    pid: bytes.readInt32LE(12),
    startTime: bytes.readBigUInt64LE(16),
    ownPidNs: (bytes.readUInt16LE(6) & 1) === 1,
    cgroupVersion: bytes[24] as 1 | 2,
    freezerKind: bytes[25]!,
    freezerFile,
    cgroupDirs,
    stateHead: str(),
    stateTail: str(),
  };
}

describe(`a forged record naming paths outside cgroupfs${SKIP}`, () => {
  /** Rewrites the container's record with `change` applied (as root could). */
  const forge = (rig: Rig, id: string, change: (r: FastRecord) => void) => {
    const file = join(rig.root, id, "fast-verbs");
    const r = decodeRecord(readFileSync(file));
    change(r);
    writeFileSync(file, encodeFastRecord(r)!);
  };

  t("delete: an empty directory under /tmp it names is not removed by the front", () => {
    const rig = new Rig();
    rigs.push(rig);
    const id = rig.make("stopped");
    const bait = join(rig.b.dir, "empty-dir");
    mkdirSync(bait);
    forge(rig, id, (r) => {
      r.cgroupDirs = [bait, ...r.cgroupDirs];
    });
    expect(call(["--root", rig.root, "delete", id]).code).toBe(0);
    expect(existsSync(bait)).toBe(true);
    expect(existsSync(join(rig.root, id))).toBe(false);
  });

  t("state: a freezer file under /tmp it names is not read (the status is bunrunc-core's)", () => {
    const rig = new Rig();
    rigs.push(rig);
    const id = rig.make("running");
    const bait = join(rig.b.dir, "freezer.state");
    writeFileSync(bait, "FROZEN\n");
    forge(rig, id, (r) => {
      r.freezerKind = 1;
      r.freezerFile = bait;
    });
    const status = (fast: boolean) => (JSON.parse(call(["--root", rig.root, "state", id], fast).stdout) as { status: string }).status;
    expect(status(true)).toBe(status(false));
  });
});

const haveUnshare = Bun.spawnSync(["sh", "-c", "command -v unshare && command -v mount"]).exitCode === 0;
describe(`an unreadable /proc/self/uid_map and the default root${SKIP}${haveUnshare ? "" : " [skipped: needs unshare and mount]"}`, () => {
  const ts = SKIP || !haveUnshare ? test.skip : test;
  ts("the front picks no root of its own: it answers as bunrunc-core does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bunrunc-xdg-"));
    const rig = new Rig();
    rigs.push(rig);
    const xdg = join(dir, "xdg");
    const root = join(xdg, "bunrunc");
    const id = uniqueId("uidmap");
    try {
      mkdirSync(xdg, { mode: 0o700 });
      // stdio ignored: the init would hold a pipe open.
      const env = { ...process.env, BUNRUNC_SERVER: "off", BUNRUNC_FAST: "off" };
      expect(Bun.spawnSync([FRONT, "--root", root, "create", "--bundle", rig.b.bundle, id], { env, stdin: "ignore", stdout: "ignore", stderr: "ignore" }).exitCode).toBe(0);
      // A socket bound over this process's uid_map (same pid after exec): open gives ENXIO.
      const sock = join(dir, "sock");
      const server = createServer();
      await new Promise<void>((done) => server.listen(sock, done));
      const seen = (fast: boolean) => {
        const env: Record<string, string | undefined> = { ...process.env, BUNRUNC_SERVER: "off", XDG_RUNTIME_DIR: xdg, USER: "nobody" };
        if (fast) delete env.BUNRUNC_FAST;
        else env.BUNRUNC_FAST = "off";
        delete env.BUNRUNC_TIMING;
        const script = 'mount --bind "$0" /proc/$$/uid_map && exec "$@"';
        const r = Bun.spawnSync(["unshare", "-m", "--propagation", "private", "sh", "-c", script, sock, FRONT, "state", id], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
        return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString().replace(/time="[^"]*"/g, 'time="T"') };
      };
      const fast = seen(true);
      const core = seen(false);
      server.close();
      // bunrunc-core, reading the uid_map as "not in a user namespace", looks under /run/bunrunc.
      expect({ code: fast.code, missing: fast.stderr.includes("container does not exist") }).toEqual({ code: 1, missing: true });
      expect(fast).toEqual(core);
    } finally {
      call(["--root", root, "delete", "--force", id], false);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
