// The log contract engines parse: with --log FILE --log-format json every line is one
// {level,msg,time} object (RFC 3339 time, logrus level names) and the last error names the
// cause; the bare message also goes to stderr; text format is logrus's; --debug adds debug lines.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, perTest, RFC3339, uniqueId } from "./run-cli.ts";
import { defaultSpec, makeBundle } from "../helpers/bundle.ts";

const { dir, cleanups } = perTest();

/** Every line of a JSON log, checked against the contract. */
function jsonLines(path: string): { level: string; msg: string; time: string }[] {
  const text = readFileSync(path, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      const entry = JSON.parse(line);
      expect(Object.keys(entry).sort()).toEqual(["level", "msg", "time"]);
      expect(["error", "warning", "info", "debug"]).toContain(entry.level);
      expect(typeof entry.msg).toBe("string");
      expect(entry.time).toMatch(RFC3339);
      expect(Number.isNaN(Date.parse(entry.time))).toBe(false);
      return entry;
    });
}

describe("--log FILE --log-format json", () => {
  test("a failing create: every line parses, the last error names the cause, stderr has the bare message", () => {
    const d = dir();
    const log = join(d, "log.json");
    const bundle = join(d, "no-bundle");
    const r = cli(["--root", join(d, "root"), "--log", log, "--log-format", "json", "create", "--bundle", bundle, uniqueId()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const entries = jsonLines(log);
    const last = entries.filter((e) => e.level === "error").at(-1)!;
    expect(last.msg).toContain(join(bundle, "config.json"));
    expect(last.msg).toContain("no such file or directory");
    expect(r.stderr).toBe(`${last.msg}\n`);
  });
  test.skipIf(process.getuid?.() !== 0)("the library's warnings arrive as logrus \"warning\" entries (run with an unknown capability)", () => {
    const spec = defaultSpec(["true"]);
    spec.process!.capabilities!.bounding = [...spec.process!.capabilities!.bounding!, "CAP_BOGUS"];
    const b = makeBundle(spec);
    cleanups.push(b.cleanup);
    const log = join(b.dir, "log.json");
    const r = cli(["--root", b.root, "--log", log, "--log-format", "json", "run", "--bundle", b.bundle, uniqueId()]);
    expect(r.code).toBe(0);
    expect(jsonLines(log).some((e) => e.level === "warning" && e.msg.includes("CAP_BOGUS"))).toBe(true);
  });
  test("appends: two failures, two error lines, an existing line kept", () => {
    const d = dir();
    const log = join(d, "log.json");
    writeFileSync(log, `${JSON.stringify({ level: "info", msg: "before", time: "2024-01-02T03:04:05Z" })}\n`);
    for (const args of [["state", "gone"], ["delete", "gone"]]) {
      const r = cli(["--root", d, "--log", log, "--log-format=json", ...args]);
      expect(r).toEqual({ code: 1, stdout: "", stderr: "container does not exist\n" });
    }
    const entries = jsonLines(log);
    expect(entries.map((e) => [e.level, e.msg])).toEqual([
      ["info", "before"],
      ["error", "container does not exist"],
      ["error", "container does not exist"],
    ]);
  });
  test("usage errors are logged too (the shim shows them)", () => {
    const d = dir();
    const log = join(d, "log.json");
    expect(cli(["--log", log, "--log-format", "json", "kill"]).code).toBe(1);
    expect(jsonLines(log).at(-1)).toMatchObject({ level: "error", msg: 'bunrunc: "kill" requires a minimum of 1 argument(s)' });
  });
  test("--debug adds debug entries; without it there are none; success logs nothing", () => {
    const d = dir();
    const log = join(d, "log.json");
    expect(cli(["--root", d, "--log", log, "--log-format", "json", "list"]).code).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("");
    expect(cli(["--debug", "--root", d, "--log", log, "--log-format", "json", "list"]).code).toBe(0);
    const entries = jsonLines(log);
    expect(entries.map((e) => e.level)).toEqual(["debug"]);
    expect(entries[0]!.msg).toContain("list");
  });
  test("an unopenable --log fails clearly on stderr", () => {
    const r = cli(["--log", "/nonexistent-dir/x.log", "list"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--log: open /nonexistent-dir/x.log: no such file or directory");
  });
});

describe("text format", () => {
  test("to the --log file: logrus lines, quoted like Go's %q; stderr gets the bare message", () => {
    const d = dir();
    const log = join(d, "log.txt");
    const r = cli(["--root", d, "--log", log, "state", "a/b"]);
    expect(r.stderr).toBe("invalid container ID format\n");
    const r2 = cli(["--root", d, "--log", log, "create"]);
    expect(r2.code).toBe(1);
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^time="([^"]+)" level=error msg="invalid container ID format"$/);
    expect(lines[0]!.match(/^time="([^"]+)"/)![1]).toMatch(RFC3339);
    expect(lines[1]).toMatch(/ level=error msg="bunrunc: \\"create\\" requires exactly 1 argument\(s\)"$/);
  });
  test("without --log the lines go to stderr, stdout stays empty", () => {
    const r = cli(["--root", dir(), "state", "gone"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^time="[^"]+" level=error msg="container does not exist"\n$/);
  });
  test("--log-format json without --log: JSON lines on stderr", () => {
    const r = cli(["--root", dir(), "--log-format", "json", "state", "gone"]);
    expect(JSON.parse(r.stderr)).toMatchObject({ level: "error", msg: "container does not exist" });
  });
});
