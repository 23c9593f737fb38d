// State written by someone else (issue 12): root must not signal the host pid, nor run the hooks,
// that a state another user could have written names. The attack, for real: a state root, a
// container's state dir or a state.json that `nobody` owns (or that group/others may write, or a
// symlink) names the host pid of a `sleep` this test started and a poststop hook that would create
// a marker file. Every verb refuses with one line; the sleep survives, the marker never appears.
// A control shows the same forged state, trusted, does what the attack wants (so the refusals
// are what stop it). Every case runs direct (BUNRUNC_SERVER=off) and through the resident server.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { procStat } from "../../src/lib/init-process.ts";
import { defaultSpec, makeBundle, type TestBundle } from "../helpers/bundle.ts";

const REPO = resolve(import.meta.dir, "../..");
const FRONT = join(REPO, "dist/bunrunc");
const canRun = process.getuid?.() === 0 && existsSync(FRONT) && existsSync(`${FRONT}-core`);
const SKIP = canRun ? "" : " [skipped: needs root and a build (scripts/build.sh)]";
const NOBODY = 65534;
const REFUSED = "refusing untrusted state: ";

const temp = mkdtempSync(join(tmpdir(), "bunrunc-trust-"));
const sleeps: ReturnType<typeof Bun.spawn>[] = [];
const bundles: TestBundle[] = [];
afterAll(() => {
  stopSleeps();
  for (const b of bundles) b.cleanup();
  rmSync(temp, { recursive: true, force: true });
});

interface Out {
  code: number;
  stderr: string;
  stdout: string;
}

function bunrunc(args: string[], served: boolean): Out {
  const env = served ? { ...process.env } : { ...process.env, BUNRUNC_SERVER: "off" };
  const r = Bun.spawnSync([FRONT, ...args], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Calls until one is served (the first call of a build starts the server and runs directly). */
function serverUp(root: string): void {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (bunrunc(["--debug", "--root", root, "state", "nothing-here"], true).stderr.includes("served by the resident server")) return;
    Bun.sleepSync(50);
  }
  throw new Error("the resident server never answered");
}

function startSleep(): number {
  const p = Bun.spawn(["sleep", "1000"], { stdio: ["ignore", "ignore", "ignore"] });
  sleeps.push(p);
  return p.pid;
}

function stopSleeps(): void {
  for (const p of sleeps.splice(0)) p.kill(9);
}

const alive = (pid: number) => procStat(pid) !== null && procStat(pid)!.state !== "Z";

let serial = 0;

interface Forged {
  root: string;
  id: string;
  dir: string;
  file: string;
  marker: string;
  pid: number;
}

/**
 * A root-owned root (0711) / dir (0711) / state.json (0600) in the shape bunrunc writes, naming
 * `pid` (alive: the sleep; 0: a stopped container) and a poststop hook that touches the marker.
 */
function forge(pid: number): Forged {
  const base = join(temp, `case-${serial++}`);
  const root = join(base, "root");
  const id = "victim";
  const dir = join(root, id);
  const marker = join(base, "marker");
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  chmodSync(base, 0o755);
  chmodSync(root, 0o711);
  chmodSync(dir, 0o711);
  const startTime = pid ? procStat(pid)!.startTime : "0";
  const state = {
    ociVersion: "1.2.0",
    id,
    pid: pid || 999_999_999,
    status: "running",
    bundle: base,
    rootfs: join(base, "rootfs"),
    created: new Date().toISOString(),
    owner: "",
    bunrunc: {
      initStartTime: startTime,
      cgroupPaths: {},
      cgroupVersion: 1,
      ownPidNs: true,
      hooks: { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${marker}`] }], poststart: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${marker}`] }] },
    },
  };
  const file = join(dir, "state.json");
  writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
  return { root, id, dir, file, marker, pid };
}

/** The ways another user controls the state, each applied to a forged, otherwise trusted state. */
const ATTACKS: Record<string, (f: Forged) => string> = {
  "a state root nobody owns": (f) => {
    chownSync(f.root, NOBODY, NOBODY);
    return `${f.root} is owned by uid ${NOBODY}, not by root`;
  },
  "a state dir nobody owns": (f) => {
    chownSync(f.dir, NOBODY, NOBODY);
    return `${f.dir} is owned by uid ${NOBODY}, not by root`;
  },
  "a state.json nobody owns": (f) => {
    chownSync(f.file, NOBODY, NOBODY);
    return `${f.file} is owned by uid ${NOBODY}, not by root`;
  },
  "a root-owned state.json others may write": (f) => {
    chmodSync(f.file, 0o606);
    return `${f.file} is writable by others (mode 0606)`;
  },
  "a root-owned state.json its group may write": (f) => {
    chmodSync(f.file, 0o620);
    return `${f.file} is writable by group (mode 0620)`;
  },
  "a root-owned state root others may write (sticky, like /tmp)": (f) => {
    chmodSync(f.root, 0o1777);
    return `${f.root} is writable by group and others (mode 1777)`;
  },
  "a state.json that is a symlink": (f) => {
    const real = join(f.root, "..", "real-state.json");
    writeFileSync(real, readFileSync(f.file), { mode: 0o600 });
    rmSync(f.file);
    symlinkSync(real, f.file);
    return `${f.file} is a symbolic link`;
  },
  "a state dir that is a symlink": (f) => {
    const real = join(f.root, "..", "real-dir");
    rmSync(real, { recursive: true, force: true });
    mkdirSync(real, { mode: 0o711 });
    writeFileSync(join(real, "state.json"), readFileSync(f.file), { mode: 0o600 });
    rmSync(f.dir, { recursive: true });
    symlinkSync(real, f.dir);
    return `${f.dir} is a symbolic link`;
  },
};

/** Verbs and the pid their forged state names: the live sleep, or 0 (stopped: delete runs poststop hooks). */
const VERBS: [string, string[], "sleep" | "stopped"][] = [
  ["kill", ["kill"], "sleep"],
  ["kill --all", ["kill", "--all"], "sleep"],
  ["kill KILL", ["kill", "KILL"], "sleep"],
  ["delete (stopped: poststop hooks)", ["delete"], "stopped"],
  ["delete --force", ["delete", "--force"], "sleep"],
  ["state", ["state"], "sleep"],
  ["start", ["start"], "sleep"],
  ["exec", ["exec"], "sleep"],
  ["ps", ["ps"], "sleep"],
  ["pause", ["pause"], "sleep"],
  ["resume", ["resume"], "sleep"],
  ["update", ["update", "--pids-limit", "10"], "sleep"],
  ["events --stats", ["events", "--stats"], "sleep"],
];

function argvFor(verb: string[], f: Forged): string[] {
  const [name, ...flags] = verb;
  if (name === "kill" && flags[0] === "KILL") return ["--root", f.root, "kill", f.id, "KILL"];
  if (name === "exec") return ["--root", f.root, "exec", f.id, "true"];
  return ["--root", f.root, name!, ...flags, f.id];
}

for (const served of [false, true]) {
  const path = served ? "served (default)" : "direct (BUNRUNC_SERVER=off)";
  describe.skipIf(!canRun)(`state another user could write is refused, ${path}${SKIP}`, () => {
    test("control: the same forged state, trusted, is acted on (state shows the sleep; delete runs the hook)", () => {
      if (served) serverUp(join(temp, "no-root"));
      const pid = startSleep();
      const f = forge(pid);
      const st = bunrunc(["--root", f.root, "state", f.id], served);
      expect(st.stderr).toBe("");
      expect(JSON.parse(st.stdout)).toMatchObject({ id: f.id, pid, status: "running" });
      const stopped = forge(0);
      const del = bunrunc(["--root", stopped.root, "delete", stopped.id], served);
      expect(del.code).toBe(0);
      expect(existsSync(stopped.marker)).toBe(true);
      expect(alive(pid)).toBe(true);
    });

    for (const [attack, apply] of Object.entries(ATTACKS)) {
      for (const [verbName, verb, target] of VERBS) {
        test(`${attack}: ${verbName} refuses with one line; the sleep lives, no hook runs`, () => {
          const pid = startSleep();
          const f = forge(target === "sleep" ? pid : 0);
          const why = apply(f);
          const r = bunrunc(argvFor(verb, f), served);
          expect(r.code).toBe(verb[0] === "exec" ? 255 : 1);
          const lines = r.stderr.trimEnd().split("\n");
          expect(lines).toHaveLength(1);
          expect(lines[0]).toContain(`${REFUSED}${why}`);
          expect(r.stdout).toBe("");
          expect(alive(pid)).toBe(true);
          expect(existsSync(f.marker)).toBe(false);
          stopSleeps();
        });
      }
    }

    test("list refuses a root nobody owns, and skips (with a warning) an entry nobody owns", () => {
      const pid = startSleep();
      const f = forge(pid);
      const good = join(f.root, "good");
      mkdirSync(good, { mode: 0o711 });
      writeFileSync(join(good, "state.json"), readFileSync(f.file).toString().replaceAll('"victim"', '"good"'), { mode: 0o600 });
      chownSync(f.dir, NOBODY, NOBODY);
      const r = bunrunc(["--root", f.root, "list", "--format", "json"], served);
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as { id: string }[]).map((c) => c.id)).toEqual(["good"]);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`skipping victim: ${REFUSED}${f.dir} is owned by uid ${NOBODY}, not by root`);
      chownSync(f.root, NOBODY, NOBODY);
      const all = bunrunc(["--root", f.root, "list"], served);
      expect(all.code).toBe(1);
      expect(all.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(all.stderr).toContain(`${REFUSED}${f.root} is owned by uid ${NOBODY}, not by root`);
    });

    test("create refuses a state root nobody owns and makes nothing in it", () => {
      const b = makeBundle(defaultSpec(["true"]));
      bundles.push(b);
      chownSync(b.root, NOBODY, NOBODY);
      const r = bunrunc(["--root", b.root, "create", "--bundle", b.bundle, "fresh"], served);
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`${REFUSED}${b.root} is owned by uid ${NOBODY}, not by root`);
      expect(existsSync(join(b.root, "fresh"))).toBe(false);
    });
  });
}
