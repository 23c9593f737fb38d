// runc's grammar: every invocation real clients were seen sending (test/fixtures/
// client-invocations.md, read here line by line) parses to the right verb, flags and positionals;
// then Go `flag` edge cases one by one, and runc's error texts.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgv, type Invocation } from "../../src/cli/parse.ts";
import { defaultRoot } from "../../src/state/store.ts";

const FIXTURE = resolve(import.meta.dir, "../fixtures/client-invocations.md");

const ID = "4f1c2a9b7d3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";
const EXECID = "exec-7d3e";
const subst: Record<string, string> = {
  "<ID>": ID,
  "<EXECID>": EXECID,
  "<BUNDLE>": `/run/containerd/io.containerd.runtime.v2.task/default/${ID}`,
  "<RUNDIR>": `/run/containers/storage/overlay-containers/${ID}/userdata`,
  "<ROOT>": "/run/containerd/runc",
  "<EXECROOT>": "/var/run/docker",
  "<Root option>": "/run/containerd/runc",
  "<N>": "123456",
  "<X>": "AbC123",
};
const fill = (s: string) => s.replace(/<ID>|<EXECID>|<BUNDLE>|<RUNDIR>|<ROOT>|<EXECROOT>|<Root option>|<N>|<X>/g, (k) => subst[k]!);
const B = subst["<BUNDLE>"]!;
const R = subst["<RUNDIR>"]!;

/** The argv lines of the fixture, with the global prefix each section says the client adds. */
function fixtureLines(): { template: string; argv: string[] }[] {
  const out: { template: string; argv: string[] }[] = [];
  let prefix = "";
  for (const line of readFileSync(FIXTURE, "utf8").split("\n")) {
    if (line.startsWith("## ")) {
      if (line.includes("podman")) prefix = "";
      else if (line.includes("containerd 1.6 shim")) prefix = "--root <ROOT>/default --log <BUNDLE>/log.json --log-format json";
      else if (line.includes("Docker")) prefix = "--root <EXECROOT>/runtime-runc/moby --log <BUNDLE>/log.json --log-format json";
      else if (line.includes("Kubernetes")) prefix = "--root <Root option>/k8s.io --log <BUNDLE>/log.json --log-format json";
      continue;
    }
    if (!line.startsWith("    ")) continue;
    const template = line.trim().replace(/\s{2,}\(.*\)$/, "");
    const words = template.replace(/^runc /, "").split(" ");
    // features: the shim runs it with no global flags.
    const withPrefix = template.startsWith("runc ") || words[0] === "features" || !prefix ? words : [...fill(prefix).split(" "), ...words];
    out.push({ template, argv: withPrefix.map(fill) });
  }
  return out;
}

type Expect = { kind: Invocation["kind"]; verb?: string; flags?: Record<string, unknown>; args?: string[]; log?: string; logFormat?: string; root?: string };

const EXPECTED: Record<string, Expect> = {
  "runc --version": { kind: "version" },
  "runc --log-format=json --log <RUNDIR>/oci-log create --bundle <BUNDLE> --pid-file <RUNDIR>/pidfile <ID>": { kind: "verb", verb: "create", flags: { bundle: B, "pid-file": `${R}/pidfile`, "console-socket": "" }, args: [ID], log: `${R}/oci-log`, logFormat: "json" },
  "runc --log-format=json --log <RUNDIR>/oci-log create --bundle <BUNDLE> --pid-file <RUNDIR>/pidfile --console-socket /tmp/conmon-term.<X> <ID>": { kind: "verb", verb: "create", flags: { bundle: B, "pid-file": `${R}/pidfile`, "console-socket": "/tmp/conmon-term.AbC123" }, args: [ID], logFormat: "json" },
  "runc start <ID>": { kind: "verb", verb: "start", args: [ID], log: "", logFormat: "text", root: defaultRoot() },
  "runc --log-format=json --log <BUNDLE>/<ID>/oci-log exec --pid-file <BUNDLE>/<ID>/exec_pid --process <BUNDLE>/<ID>/exec-process-<N> --detach <ID>": { kind: "verb", verb: "exec", flags: { "pid-file": `${B}/${ID}/exec_pid`, process: `${B}/${ID}/exec-process-123456`, detach: true, tty: false }, args: [ID], log: `${B}/${ID}/oci-log` },
  "runc --log-format=json --log <BUNDLE>/<ID>/oci-log exec --pid-file <BUNDLE>/<ID>/exec_pid --process <BUNDLE>/<ID>/exec-process-<N> --detach --tty --console-socket /tmp/conmon-term.<X> <ID>": { kind: "verb", verb: "exec", flags: { detach: true, tty: true, "console-socket": "/tmp/conmon-term.AbC123" }, args: [ID] },
  "runc pause <ID>": { kind: "verb", verb: "pause", args: [ID] },
  "runc resume <ID>": { kind: "verb", verb: "resume", args: [ID] },
  "runc kill <ID> 15": { kind: "verb", verb: "kill", flags: { all: false }, args: [ID, "15"] },
  "runc kill <ID> 9": { kind: "verb", verb: "kill", args: [ID, "9"] },
  "runc delete --force <ID>": { kind: "verb", verb: "delete", flags: { force: true }, args: [ID] },
  "create --bundle <BUNDLE> --pid-file <BUNDLE>/init.pid <ID>": { kind: "verb", verb: "create", flags: { bundle: B, "pid-file": `${B}/init.pid` }, args: [ID], root: "/run/containerd/runc/default", log: `${B}/log.json`, logFormat: "json" },
  "create --bundle <BUNDLE> --pid-file <BUNDLE>/init.pid --console-socket /tmp/pty<N>/pty.sock <ID>": { kind: "verb", verb: "create", flags: { "console-socket": "/tmp/pty123456/pty.sock" }, args: [ID] },
  "start <ID>": { kind: "verb", verb: "start", args: [ID], root: "/run/containerd/runc/default" },
  "exec --process /tmp/runc-process<N> --detach --pid-file <BUNDLE>/<EXECID>.pid <ID>": { kind: "verb", verb: "exec", flags: { process: "/tmp/runc-process123456", detach: true, "pid-file": `${B}/${EXECID}.pid` }, args: [ID] },
  "exec --process /tmp/runc-process<N> --console-socket /tmp/pty<N>/pty.sock --detach --pid-file <BUNDLE>/<EXECID>.pid <ID>": { kind: "verb", verb: "exec", flags: { "console-socket": "/tmp/pty123456/pty.sock", detach: true }, args: [ID] },
  "ps --format json <ID>": { kind: "verb", verb: "ps", flags: { format: "json" }, args: [ID] },
  "pause <ID>": { kind: "verb", verb: "pause", args: [ID] },
  "resume <ID>": { kind: "verb", verb: "resume", args: [ID] },
  "kill <ID> 15": { kind: "verb", verb: "kill", args: [ID, "15"] },
  "kill <ID> 9": { kind: "verb", verb: "kill", args: [ID, "9"] },
  "delete <ID>": { kind: "verb", verb: "delete", flags: { force: false }, args: [ID] },
  "delete --force <ID>": { kind: "verb", verb: "delete", flags: { force: true }, args: [ID] },
  "update --resources=- <ID>": { kind: "verb", verb: "update", flags: { resources: "-" }, args: [ID] },
  "features": { kind: "verb", verb: "features", args: [], root: defaultRoot(), log: "" },
  "update --resources - <ID>": { kind: "verb", verb: "update", flags: { resources: "-" }, args: [ID], root: "/var/run/docker/runtime-runc/moby" },
  "kill <ID> 10": { kind: "verb", verb: "kill", args: [ID, "10"] },
  "kill --all <ID> 9": { kind: "verb", verb: "kill", flags: { all: true }, args: [ID, "9"], root: "/run/containerd/runc/k8s.io" },
};

function check(inv: Invocation, want: Expect): void {
  expect(inv.kind).toBe(want.kind);
  if (want.log !== undefined) expect(inv.global.log).toBe(want.log);
  if (want.logFormat !== undefined) expect(inv.global.logFormat).toBe(want.logFormat as "text");
  if (want.root !== undefined) expect(inv.global.root).toBe(want.root);
  if (inv.kind !== "verb") return;
  expect(inv.verb as string).toBe(want.verb!);
  if (want.flags) expect(inv.flags).toMatchObject(want.flags);
  if (want.args) expect(inv.args).toEqual(want.args);
}

describe("client-invocations.md", () => {
  const lines = fixtureLines();
  test("the fixture was read (every section)", () => {
    expect(lines.length).toBeGreaterThanOrEqual(28);
  });
  for (const { template, argv } of lines) {
    test(`parses: ${template}`, () => {
      const want = EXPECTED[template];
      expect(want, `no expectation written for fixture line: ${template}`).toBeDefined();
      check(parseArgv(argv), want!);
    });
  }
});

const parse = (line: string) => parseArgv(line.split(" ").filter(Boolean));
const verb = (line: string) => {
  const inv = parse(line);
  if (inv.kind !== "verb") throw new Error(`not a verb: ${line}`);
  return inv;
};
const failure = (line: string | string[]) => {
  try {
    parseArgv(typeof line === "string" ? line.split(" ") : line);
  } catch (e) {
    return { message: (e as Error).message, exitCode: (e as { exitCode?: number }).exitCode };
  }
  throw new Error(`parsed without error: ${line}`);
};

describe("Go flag rules", () => {
  test("-x is --x, for long names and for short aliases", () => {
    expect(verb("create -bundle /b -pid-file /p x").flags).toMatchObject({ bundle: "/b", "pid-file": "/p" });
    expect(verb("create --b /b x").flags.bundle).toBe("/b");
    expect(verb("delete --f x").flags.force).toBe(true);
  });
  test("--x=v and --x v", () => {
    expect(verb("create --bundle=/b1 x").flags.bundle).toBe("/b1");
    expect(verb("create -b=/b2 x").flags.bundle).toBe("/b2");
    expect(verb("create --bundle /b3 x").flags.bundle).toBe("/b3");
    expect(verb("create --bundle=a=b x").flags.bundle).toBe("a=b");
  });
  test("a string flag takes the next word even when it starts with -", () => {
    expect(verb("create --bundle -weird x").flags.bundle).toBe("-weird");
    expect(verb("update -r - x")).toMatchObject({ flags: { resources: "-" }, args: ["x"] });
  });
  test("booleans never eat the next word; --bool=false and Go's boolean words work", () => {
    expect(verb("delete --force x")).toMatchObject({ flags: { force: true }, args: ["x"] });
    expect(verb("run --detach true")).toMatchObject({ flags: { detach: true }, args: ["true"] });
    expect(verb("delete --force=false x").flags.force).toBe(false);
    for (const w of ["1", "t", "T", "TRUE", "true", "True"]) expect(verb(`delete --force=${w} x`).flags.force).toBe(true);
    for (const w of ["0", "f", "F", "FALSE", "false", "False"]) expect(verb(`delete -f=${w} x`).flags.force).toBe(false);
    expect(failure("delete --force=maybe x").message).toBe('invalid boolean value "maybe" for -force: parse error');
  });
  test("the last of a repeated scalar flag wins", () => {
    expect(verb("create -b /one --bundle /two x").flags.bundle).toBe("/two");
  });
  test("global flags only before the verb", () => {
    expect(parse("--root /tmp/r1 --debug list").global).toMatchObject({ root: "/tmp/r1", debug: true });
    expect(failure("list --root /tmp/r1").message).toBe("flag provided but not defined: -root");
    expect(failure("state --debug x").message).toBe("flag provided but not defined: -debug");
  });
  test("--root is made absolute; --log-format must be text or json", () => {
    expect(parse(`--root rel/dir list`).global.root).toBe(join(process.cwd(), "rel/dir"));
    expect(failure("--log-format xml list").message).toBe("invalid log-format: xml");
  });
  test("--rootless takes true/false/auto, and bare means true", () => {
    expect(parse("--rootless=false list").global.rootless).toBe("false");
    expect(parse("--rootless auto list").global.rootless).toBe("auto");
    expect(parse("--rootless list").global).toMatchObject({ rootless: "true" });
    expect(verb("--rootless --root /tmp/r2 list").global).toMatchObject({ rootless: "true", root: "/tmp/r2" });
    expect(parse("list").global.rootless).toBe("auto");
  });
  test("verb flags may follow positionals (urfave moves them first)", () => {
    expect(verb("create x --bundle /b --pid-file /p")).toMatchObject({ args: ["x"], flags: { bundle: "/b", "pid-file": "/p" } });
    expect(verb("kill x 9 --all")).toMatchObject({ args: ["x", "9"], flags: { all: true } });
    expect(verb("delete x -f")).toMatchObject({ args: ["x"], flags: { force: true } });
  });
  test("exec and ps stop at the container id: the rest is the command", () => {
    expect(verb("exec x sh -c true")).toMatchObject({ args: ["x", "sh", "-c", "true"], flags: { cap: [] } });
    expect(verb("exec -t -e A=1 x ls --env B -d")).toMatchObject({ args: ["x", "ls", "--env", "B", "-d"], flags: { tty: true, env: ["A=1"], detach: false } });
    expect(verb("ps x -ef")).toMatchObject({ args: ["x", "-ef"], flags: { format: "table" } });
    expect(verb("ps -f json x aux").args).toEqual(["x", "aux"]);
  });
  test("-- ends flags; a -- after a positional stays a positional (as in runc)", () => {
    expect(verb("exec -- x -t")).toMatchObject({ args: ["x", "-t"], flags: { tty: false } });
    expect(verb("kill -- x 9").args).toEqual(["x", "9"]);
    expect(verb("exec x -- sh").args).toEqual(["x", "--", "sh"]);
    expect(failure("kill x -- 9").message).toBe('bunrunc: "kill" requires a maximum of 2 argument(s)');
  });
  test("- alone is a positional", () => {
    expect(verb("state -").args).toEqual(["-"]);
    expect(verb("kill x - -a")).toMatchObject({ args: ["x", "-"], flags: { all: true } });
  });
  test("repeatable flags collect: --env/-e, --cap/-c, -g, --cgroup, --empty-ns", () => {
    const e = verb("exec -e A=1 --env B=2 -c CAP_KILL --cap CAP_CHOWN -g 10 --additional-gids 0x14 --cgroup cpu:/a --cgroup /b x sh");
    expect(e.flags).toMatchObject({ env: ["A=1", "B=2"], cap: ["CAP_KILL", "CAP_CHOWN"], "additional-gids": [10, 20], cgroup: ["cpu:/a", "/b"] });
    expect(verb("checkpoint --empty-ns network --empty-ns=ipc x").flags["empty-ns"]).toEqual(["network", "ipc"]);
    expect(verb("restore --empty-ns net x").flags["empty-ns"]).toEqual(["net"]);
  });
  test("--no-pivot, --no-new-keyring, --no-subreaper, --no-new-privs are flags, not negations", () => {
    expect(verb("create --no-pivot --no-new-keyring x").flags).toMatchObject({ "no-pivot": true, "no-new-keyring": true });
    expect(verb("run --no-subreaper x").flags["no-subreaper"]).toBe(true);
    expect(verb("exec --no-new-privs x sh").flags["no-new-privs"]).toBe(true);
    expect(failure("create --pivot x").message).toBe("flag provided but not defined: -pivot");
  });
  test("integers: Go's ParseInt base 0; durations: Go's ParseDuration", () => {
    expect(verb("create --preserve-fds 3 x").flags["preserve-fds"]).toBe(3);
    expect(verb("create --preserve-fds=0x10 x").flags["preserve-fds"]).toBe(16);
    expect(verb("create --preserve-fds 010 x").flags["preserve-fds"]).toBe(8);
    expect(verb("checkpoint x").flags["status-fd"]).toBe(-1);
    expect(failure("create --preserve-fds x x").message).toBe('invalid value "x" for flag -preserve-fds: parse error');
    expect(failure("create --preserve-fds 99999999999999999999 x").message).toBe('invalid value "99999999999999999999" for flag -preserve-fds: value out of range');
    expect(failure("exec -g abc x sh").message).toBe('invalid value "abc" for flag -g: strconv.ParseInt: parsing "abc": invalid syntax');
    expect(verb("events x").flags.interval).toBe(5000);
    expect(verb("events --interval 1m30s x").flags.interval).toBe(90_000);
    expect(verb("events --interval=250ms x").flags.interval).toBe(250);
    expect(failure("events --interval 5 x").message).toBe('invalid value "5" for flag -interval: parse error');
  });
  test("unknown flags, missing values, bad syntax: Go's texts", () => {
    expect(failure("create --foo x").message).toBe("flag provided but not defined: -foo");
    expect(failure("--foo list").message).toBe("flag provided but not defined: -foo");
    expect(failure("create x --bundle").message).toBe("flag needs an argument: -bundle");
    expect(failure("create -b").message).toBe("flag needs an argument: -b");
    expect(failure("---x list").message).toBe("bad flag syntax: ---x");
    expect(failure("-=x list").message).toBe("bad flag syntax: -=x");
    expect(failure("create -dt x").message).toBe("flag provided but not defined: -dt");
  });
});

describe("verbs, arity, ids, help and version", () => {
  test("every runc verb is registered", () => {
    for (const v of ["spec", "create", "start", "run", "exec", "state", "list", "kill", "delete", "pause", "resume", "ps", "events", "update", "features", "checkpoint", "restore"]) {
      expect(() => parseArgv([v, "--help"])).not.toThrow();
    }
  });
  test("wrong arity: runc's wording with the name we run as", () => {
    expect(failure("create").message).toBe('bunrunc: "create" requires exactly 1 argument(s)');
    expect(failure("state a b").message).toBe('bunrunc: "state" requires exactly 1 argument(s)');
    expect(failure("list x").message).toBe('bunrunc: "list" requires exactly 0 argument(s)');
    expect(failure("spec x").message).toBe('bunrunc: "spec" requires exactly 0 argument(s)');
    expect(failure("exec").message).toBe('bunrunc: "exec" requires a minimum of 1 argument(s)');
    expect(failure("ps").message).toBe('bunrunc: "ps" requires a minimum of 1 argument(s)');
    expect(failure("kill").message).toBe('bunrunc: "kill" requires a minimum of 1 argument(s)');
    expect(failure("kill a 9 x").message).toBe('bunrunc: "kill" requires a maximum of 2 argument(s)');
    expect(() => parseArgv(["state"], { argv0: "runc" })).toThrow('runc: "state" requires exactly 1 argument(s)');
  });
  test("container ids: [A-Za-z0-9_+.-]+, never . or ..; runc's message", () => {
    for (const ok of ["a", "A_b-c.d+e", ID, "..."]) expect(verb(`state ${ok}`).args).toEqual([ok]);
    for (const bad of ["a/b", ".", "..", "a,b", "a b", "ä", "a:b"]) expect(failure(["state", bad]).message).toBe("invalid container ID format");
  });
  test("unknown verb: urfave's text and exit 3", () => {
    expect(failure("frobnicate x")).toEqual({ message: "No help topic for 'frobnicate'", exitCode: 3 });
    expect(failure("help frobnicate").exitCode).toBe(3);
  });
  test("help: no verb, --help, -h, help VERB, h VERB, VERB --help", () => {
    expect(parse("")).toMatchObject({ kind: "help" });
    expect(parse("--root /x")).toMatchObject({ kind: "help" });
    expect(parse("-h")).toMatchObject({ kind: "help" });
    expect(parse("help kill")).toMatchObject({ kind: "help", verb: "kill" });
    expect(parse("h kill")).toMatchObject({ kind: "help", verb: "kill" });
    expect(parse("create --help")).toMatchObject({ kind: "help", verb: "create" });
    expect(parse("exec -h")).toMatchObject({ kind: "help", verb: "exec" });
  });
  test("version: --version and -v", () => {
    expect(parse("--version").kind).toBe("version");
    expect(parse("-v").kind).toBe("version");
  });
});
