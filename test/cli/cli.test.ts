// The CLI end to end as a process: exit codes, runc's error texts on stderr, stdout carrying only
// command output, state/list/kill/delete on a container whose "init" is a real `sleep` (state dir
// written by hand: independent of the Zig core), help and version.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeState, type ContainerState } from "../../src/lib/container.ts";
import { rfc3339Nano } from "../../src/base/rfc3339.ts";
import { procStat } from "../../src/lib/init-process.ts";
import { cli, DIST, tempDir, uniqueId } from "./run-cli.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** runc's list OWNER: the state dir owner's name from /etc/passwd (we made it). */
function myUserName(): string {
  const uid = String(process.getuid!());
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[2] === uid);
  return line ? line.split(":")[0]! : uid;
}

function root(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** A container record whose init is a `sleep` we own; no cgroup (none needed for these verbs). */
function sleepingContainer(stateRoot: string, annotations?: Record<string, string>) {
  const id = uniqueId("st");
  const proc = Bun.spawn(["sleep", "60"]);
  cleanups.push(() => (proc.kill(9), proc.exited));
  mkdirSync(join(stateRoot, id), { recursive: true });
  const s: ContainerState = {
    ociVersion: "1.3.0",
    id,
    pid: proc.pid,
    status: "running",
    bundle: join(stateRoot, "bundle"),
    rootfs: join(stateRoot, "bundle/rootfs"),
    created: rfc3339Nano(),
    owner: "",
    ...(annotations ? { annotations } : {}),
    bunrunc: { initStartTime: procStat(proc.pid)!.startTime, cgroupPaths: {}, cgroupVersion: 1, ownPidNs: true },
  };
  writeState(stateRoot, s);
  return { id, proc, s };
}

describe("errors: one line on stderr, runc's text, exit 1, nothing on stdout", () => {
  const cases: [string[], string][] = [
    [["state"], 'bunrunc: "state" requires exactly 1 argument(s)'],
    [["create", "--foo", "x"], "flag provided but not defined: -foo"],
    [["kill", "a", "b", "c"], 'bunrunc: "kill" requires a maximum of 2 argument(s)'],
    [["exec"], 'bunrunc: "exec" requires a minimum of 1 argument(s)'],
    [["state", "a/b"], "invalid container ID format"],
    [["delete", "--force=maybe", "x"], 'invalid boolean value "maybe" for -force: parse error'],
    [["--log-format", "xml", "list"], "invalid log-format: xml"],
  ];
  for (const [args, message] of cases) {
    test(`${args.join(" ")} -> ${message}`, () => {
      const r = cli(["--root", root(), ...args]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      // logrus text format on stderr (no --log): time=... level=error msg="..."
      expect(lines[0]).toMatch(/^time="[^"]+" level=error msg=/);
      expect(lines[0]).toContain(JSON.stringify(message).slice(1, -1));
    });
  }
  test("state and delete of a missing container: container does not exist", () => {
    const r = root();
    for (const verb of ["state", "delete", "start", "kill"]) {
      const out = cli(["--root", r, verb, "nope"]);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('msg="container does not exist"');
      expect(out.stdout).toBe("");
    }
    expect(cli(["--root", r, "delete", "--force", "nope"]).code).toBe(0);
  });
  test("an unknown verb exits 3 like runc", () => {
    const r = cli(["frobnicate"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("No help topic for 'frobnicate'");
  });
  test("checkpoint of a missing container and restore without images fail in one line (test/checkpoint does the rest)", () => {
    const r = root();
    const ck = cli(["--root", r, "checkpoint", "x"]);
    expect(ck.code).toBe(1);
    expect(ck.stderr).toContain('msg="container does not exist"');
    const rs = cli(["--root", r, "restore", "--bundle", r, "--image-path", `${r}/no-images`, "x"]);
    expect(rs.code).toBe(1);
    expect(rs.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("state, list, kill, delete on a hand-made container", () => {
  test("state prints runc's JSON: two-space indent, runc's key order, no trailing newline", () => {
    const r = root();
    const { id, proc, s } = sleepingContainer(r, { "org.example/a": "b&c" });
    const out = cli(["--root", r, "state", id]);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe("");
    const expected = { ociVersion: "1.3.0", id, pid: proc.pid, status: "running", bundle: s.bundle, rootfs: s.rootfs, created: s.created, annotations: { "org.example/a": "b&c" }, owner: "" };
    expect(out.stdout).toBe(JSON.stringify(expected, null, 2).replace("&", "\\u0026"));
  });
  test("list: table like Go's tabwriter, --format json, -q; empty list is a header / null", () => {
    const r = root();
    expect(cli(["--root", r, "list"]).stdout).toBe("ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
    expect(cli(["--root", r, "list", "--format", "json"]).stdout).toBe("null\n");
    expect(cli(["--root", join(r, "missing"), "list", "-q"])).toEqual({ code: 0, stdout: "", stderr: "" });
    const a = sleepingContainer(r);
    const b = sleepingContainer(r);
    const ids = [a.id, b.id].sort();
    expect(cli(["--root", r, "list", "-q"]).stdout).toBe(ids.map((i) => `${i}\n`).join(""));
    const json = JSON.parse(cli(["--root", r, "list", "-f", "json"]).stdout);
    expect(json.map((x: { id: string; status: string; owner: string }) => [x.id, x.status, x.owner])).toEqual(ids.map((i) => [i, "running", myUserName()]));
    const table = cli(["--root", r, "list"]).stdout.split("\n");
    expect(table[0]).toMatch(/^ID {2,}PID {2,}STATUS {2,}BUNDLE {2,}CREATED {2,}OWNER$/);
    expect(table[1]!.startsWith(`${ids[0]}   `)).toBe(true);
    expect(table[0]!.indexOf("PID")).toBe(ids[0]!.length + 3);
    expect(cli(["--root", r, "list", "-f", "yaml"]).stderr).toContain("invalid format option");
  });
  test("kill by name, then state reads stopped with pid 0, kill again fails, delete removes it", async () => {
    const r = root();
    const { id, proc } = sleepingContainer(r);
    expect(cli(["--root", r, "kill", id, "SIGKILL"]).code).toBe(0);
    await proc.exited;
    expect(proc.signalCode).toBe("SIGKILL");
    expect(JSON.parse(cli(["--root", r, "state", id]).stdout)).toMatchObject({ status: "stopped", pid: 0 });
    const again = cli(["--root", r, "kill", id, "9"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("container not running");
    expect(cli(["--root", r, "delete", id]).code).toBe(0);
    expect(existsSync(join(r, id))).toBe(false);
  });
  test("kill's default is SIGTERM; a bad signal name fails with runc's text", async () => {
    const r = root();
    const { id, proc } = sleepingContainer(r);
    const bad = cli(["--root", r, "kill", id, "SIGFOO"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown signal \\"SIGFOO\\"');
    expect(cli(["--root", r, "kill", id]).code).toBe(0);
    await proc.exited;
    expect(proc.signalCode).toBe("SIGTERM");
  });
  test("delete refuses a running container without --force", () => {
    const r = root();
    const { id } = sleepingContainer(r);
    const out = cli(["--root", r, "delete", id]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`cannot delete container ${id} that is not stopped: running`);
  });
});

describe("help and version", () => {
  test("--version: bunrunc version, commit, spec 1.3.0, bun", () => {
    const out = cli(["--version"]);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`bunrunc version ${require("../../package.json").version}`);
    expect(lines[1]).toMatch(/^commit: ([0-9a-f]{40}|unknown)$/);
    expect(lines[2]).toBe("spec: 1.3.0");
    expect(lines[3]).toBe(`bun: ${Bun.version}`);
    expect(cli(["-v"]).stdout).toBe(out.stdout);
  });
  test("help per verb from the flag tables (plain text when piped)", () => {
    const out = cli(["create", "--help"]);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain("\x1b[");
    for (const f of ["--bundle", "-b", "--console-socket", "--pid-file", "--no-pivot", "--no-new-keyring", "--preserve-fds"]) expect(out.stdout).toContain(f);
    expect(cli(["help", "exec"]).stdout).toContain("--additional-gids");
    const top = cli([]);
    expect(top.code).toBe(0);
    for (const v of ["spec", "create", "checkpoint", "restore", "features"]) expect(top.stdout).toContain(v);
    expect(top.stdout).toContain("--log-format");
  });
});

describe.skipIf(!existsSync(DIST))(`dist/bunrunc, the one-file build${existsSync(DIST) ? "" : " [skipped: run scripts/build.sh first]"}`, () => {
  test("--version names the commit it was built from", () => {
    const out = cli(["--version"], { bin: DIST });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^bunrunc version \S+\ncommit: [0-9a-f]{40}\nspec: 1\.3\.0\nbun: \S+\n$/);
  });
  test("a failing command: JSON log line, bare message on stderr, exit 1; arity errors use the name it was run as", () => {
    const r = root();
    const log = join(r, "log.json");
    const out = cli(["--root", r, "--log", log, "--log-format", "json", "state", "gone"], { bin: DIST });
    expect(out).toEqual({ code: 1, stdout: "", stderr: "container does not exist\n" });
    expect(JSON.parse(readFileSync(log, "utf8"))).toMatchObject({ level: "error", msg: "container does not exist" });
    expect(cli(["state"], { bin: DIST }).stderr).toContain('msg="bunrunc: \\"state\\" requires exactly 1 argument(s)"');
  });
  test("state and list of a hand-made container", () => {
    const r = root();
    const { id, proc } = sleepingContainer(r);
    expect(JSON.parse(cli(["--root", r, "state", id], { bin: DIST }).stdout)).toMatchObject({ id, pid: proc.pid, status: "running" });
    expect(cli(["--root", r, "list", "-q"], { bin: DIST }).stdout).toBe(`${id}\n`);
  });
});
