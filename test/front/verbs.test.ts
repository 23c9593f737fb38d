// The front's own start, state, kill and delete (zig/front_verbs.zig) against bunrunc-core's
// (BUNRUNC_FAST=off), on real containers in every status: the same stdout, stderr, exit code,
// status after and cgroup dirs left; strace shows the front ran the call alone where it should,
// and handed it to bunrunc-core where the container or the argv is not plain.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec } from "../helpers/bundle.ts";
import { call, execs, Rig, SKIP, STATUSES, STRACE_SKIP, type Result, type Status } from "./rig.ts";

const rigs: Rig[] = [];
afterAll(() => rigs.forEach((r) => r.cleanup()));
const rigOf = (args?: string[]) => {
  const r = new Rig(args);
  rigs.push(r);
  return r;
};
const t = SKIP ? test.skip : test;

/** Everything a caller sees of a call, with the container's id put as <id>. */
function seen(r: Result, id: string): Result {
  const norm = (s: string) => s.split(id).join("<id>").replace(/time="[^"]*"/g, 'time="T"');
  return { code: r.code, stdout: norm(r.stdout), stderr: norm(r.stderr) };
}

const VERBS: string[][] = [["start"], ["state"], ["kill"], ["kill", "KILL"], ["delete"], ["delete", "--force"], ["delete", "-f=false"]];

describe(`the front's verbs read the same as bunrunc-core's${SKIP}`, () => {
  for (const status of STATUSES) {
    for (const verb of VERBS) {
      t(`${verb.join(" ")} of a ${status} container`, () => {
        const rig = rigOf();
        const ids = { fast: rig.make(status), core: rig.make(status) };
        const dirs = { fast: rig.cgroupDirs(ids.fast), core: rig.cgroupDirs(ids.core) };
        const after = (path: "fast" | "core") => {
          const id = ids[path];
          const r = call(["--root", rig.root, verb[0]!, id, ...verb.slice(1)], path === "fast");
          // A frozen init dies only once thawed: a paused container stays paused.
          if (verb[1] === "KILL" && r.code === 0 && status !== "paused") rig.waitStatus(id, "stopped");
          const out = seen(r, id);
          // state prints the container's own pid and creation time: compared on one container below.
          if (verb[0] === "state") out.stdout = out.stdout.replace(/"pid": \d+/, '"pid": P').replace(/"created": "[^"]*"/, "").replace(/"(bundle|rootfs)": "[^"]*"/g, "");
          return { ...out, status: rig.status(id), stateDir: existsSync(join(rig.root, id)), lock: existsSync(join(rig.root, `.${id}.lock`)), cgroups: dirs[path].map(existsSync) };
        };
        expect(after("fast")).toEqual(after("core"));
      });
    }
    t(`state of one ${status} container prints the same bytes either way`, () => {
      const rig = rigOf();
      const id = rig.make(status);
      const fast = call(["--root", rig.root, "state", id]);
      expect(fast.code).toBe(0);
      expect(fast).toEqual(call(["--root", rig.root, "state", id], false));
      expect(JSON.parse(fast.stdout).status).toBe(status);
    });
  }

  t("a state with annotations needing Go's escapes reads the same", () => {
    const rig = rigOf();
    const spec = defaultSpec(["sleep", "1000"]);
    spec.annotations = { "a<b>": "x&y\u2028\"q\"\n", e: "" };
    rig.b.writeSpec(spec);
    const id = rig.make("running");
    const fast = call(["--root", rig.root, "state", id]);
    expect(fast.stdout).toContain("\\u003c");
    expect(fast).toEqual(call(["--root", rig.root, "state", id], false));
  });

  t("--log and --log-format: the log is made, and nothing is written to it on success, as bunrunc-core does", () => {
    const rig = rigOf();
    for (const fast of [true, false]) {
      const id = rig.make("created");
      const log = join(rig.b.dir, `log-${fast}`);
      const r = call(["--log", log, "--log-format", "json", "--root", rig.root, "start", id], fast);
      expect({ code: r.code, out: r.stdout + r.stderr, log: readFileSync(log, "utf8") }).toEqual({ code: 0, out: "", log: "" });
      expect(rig.status(id)).toBe("running");
    }
  });
});

describe(`which calls the front runs alone${SKIP}${STRACE_SKIP}`, () => {
  const ts = SKIP || STRACE_SKIP ? test.skip : test;

  ts("start, state, kill and delete --force of a plain container: no exec of bunrunc-core", () => {
    const rig = rigOf();
    const id = rig.make("created");
    const root = ["--root", rig.root];
    expect(execs([...root, "state", id])).toEqual({ core: false, code: 0 });
    expect(execs([...root, "start", id])).toEqual({ core: false, code: 0 });
    expect(execs([...root, "kill", id, "SIGCONT"])).toEqual({ core: false, code: 0 });
    const cgroups = rig.cgroupDirs(id);
    expect(execs([...root, "delete", "--force", id])).toEqual({ core: false, code: 0 });
    expect(existsSync(join(rig.root, id))).toBe(false);
    expect(existsSync(join(rig.root, `.${id}.lock`))).toBe(false);
    expect(cgroups.filter(existsSync)).toEqual([]);
  });

  ts("BUNRUNC_FAST=off, --debug, kill --all, a paused container, a missing one: bunrunc-core runs the call", () => {
    const rig = rigOf();
    const id = rig.make("running");
    const root = ["--root", rig.root];
    expect(execs([...root, "state", id], false)).toEqual({ core: true, code: 0 });
    expect(execs(["--debug", ...root, "state", id])).toEqual({ core: true, code: 0 });
    expect(execs([...root, "kill", "--all", id, "CONT"])).toEqual({ core: true, code: 0 });
    expect(execs([...root, "state", "no-such-container"]).core).toBe(true);
    rig.core(["pause", id]);
    expect(execs([...root, "start", id])).toEqual({ core: true, code: 1 });
    expect(execs([...root, "delete", "--force", id])).toEqual({ core: true, code: 0 });
  });

  ts("delete --force of a container that is not there (a shim's second delete): the front answers alone, as the core does; without --force the core says so", () => {
    const rig = rigOf();
    const id = rig.make("stopped");
    const root = ["--root", rig.root];
    expect(call([...root, "delete", id]).code).toBe(0);
    const front = call([...root, "delete", "--force", id]);
    const core = call([...root, "delete", "--force", id], false);
    expect(front).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(front).toEqual(core);
    expect(execs([...root, "delete", "--force", id])).toEqual({ core: false, code: 0 });
    expect(existsSync(join(rig.root, `.${id}.lock`))).toBe(false);
    const plain = execs([...root, "delete", id]);
    expect(plain).toEqual({ core: true, code: 1 });
    expect(call([...root, "delete", id]).stderr).toContain("does not exist");
    // An invalid id is never "not there": the core refuses it by name, --force or not.
    expect(execs([...root, "delete", "--force", "a/b"])).toEqual({ core: true, code: 1 });
  });

  const haveFlock = Bun.spawnSync(["sh", "-c", "command -v flock"]).exitCode === 0;
  (haveFlock ? ts : test.skip)(`a container lock held elsewhere: bunrunc-core waits for it and starts the container${haveFlock ? "" : " [skipped: flock(1) is not installed]"}`, () => {
    const rig = rigOf();
    const id = rig.make("created");
    const lock = join(rig.root, `.${id}.lock`);
    // Held long enough for the front to find it busy, short enough for the core's wait to end.
    const holder = Bun.spawn(["flock", "-x", lock, "sleep", "2"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    try {
      for (let i = 0; i < 400 && Bun.spawnSync(["flock", "-n", lock, "true"]).exitCode === 0; i++) Bun.sleepSync(5);
      expect(execs(["--root", rig.root, "start", id])).toEqual({ core: true, code: 0 });
      expect(rig.status(id)).toBe("running");
    } finally {
      holder.kill(9);
    }
  });

  ts("a container with a poststop hook gets no record: its delete is bunrunc-core's, and the hook runs", () => {
    const rig = rigOf();
    const mark = join(rig.b.dir, "poststop-ran");
    const spec = defaultSpec(["sleep", "1000"]);
    spec.hooks = { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${mark}`] }] };
    rig.b.writeSpec(spec);
    const id = rig.make("created");
    expect(existsSync(join(rig.root, id, "fast-verbs"))).toBe(false);
    expect(execs(["--root", rig.root, "delete", id])).toEqual({ core: true, code: 0 });
    expect(existsSync(mark)).toBe(true);
  });
});

/** The status helper's own check: a status it could not tell apart would make the parity above pass. */
describe(`the rig${SKIP}`, () => {
  t("brings containers to each status", () => {
    const rig = rigOf();
    const got = STATUSES.map((s: Status) => rig.status(rig.make(s)));
    expect(got).toEqual(STATUSES);
  });
});
