// `bunrunc spec` against Debian's `runc spec`: the same document apart from ociVersion (ours
// 1.3.0) and maskedPaths (ours contain runc's, plus newer ones), in the same formatting; the
// same for --rootless; -b DIR; an existing config.json is never overwritten.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, DIST, perTest } from "./run-cli.ts";

const RUNC = "/usr/sbin/runc";
const haveRunc = existsSync(RUNC);
const { dir } = perTest();

function runcSpec(args: string[]): string {
  const d = dir();
  const r = Bun.spawnSync([RUNC, "spec", ...args], { cwd: d, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`runc spec ${args.join(" ")}: ${r.stderr.toString()}`);
  return readFileSync(join(d, "config.json"), "utf8");
}

function oursSpec(args: string[], bin?: string): string {
  const d = dir();
  const r = cli(["spec", ...args], { cwd: d, bin });
  expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
  return readFileSync(join(d, "config.json"), "utf8");
}

function compare(ours: string, theirs: string): void {
  const a = JSON.parse(ours);
  const b = JSON.parse(theirs);
  expect(a.ociVersion).toBe("1.3.0");
  for (const p of b.linux.maskedPaths) expect(a.linux.maskedPaths).toContain(p);
  // Apart from those two fields: the same document, byte for byte (tabs, key order, no newline).
  const normalized = JSON.stringify({ ...a, ociVersion: b.ociVersion, linux: { ...a.linux, maskedPaths: b.linux.maskedPaths } }, null, "\t");
  expect(normalized).toBe(theirs);
  expect(ours).toBe(JSON.stringify(a, null, "\t"));
}

describe.skipIf(!haveRunc)("spec equals runc spec (needs Debian's runc at /usr/sbin/runc)", () => {
  test("default", () => compare(oursSpec([]), runcSpec([])));
  test("--rootless", () => compare(oursSpec(["--rootless"]), runcSpec(["--rootless"])));
  test.skipIf(!existsSync(DIST))(`dist/bunrunc spec${existsSync(DIST) ? "" : " [skipped: run scripts/build.sh first]"}`, () => compare(oursSpec([], DIST), runcSpec([])));
});

describe("spec files", () => {
  test("newer masked paths are added", () => {
    const spec = JSON.parse(oursSpec([]));
    expect(spec.linux.maskedPaths).toContain("/proc/interrupts");
    expect(spec.linux.maskedPaths).toContain("/sys/devices/virtual/powercap");
  });
  test("-b DIR writes there; a missing DIR fails like runc's chdir", () => {
    const d = dir();
    mkdirSync(join(d, "bundle"));
    expect(cli(["spec", "-b", join(d, "bundle")]).code).toBe(0);
    expect(existsSync(join(d, "bundle", "config.json"))).toBe(true);
    expect(existsSync(join(d, "config.json"))).toBe(false);
    const r = cli(["spec", "--bundle", join(d, "missing")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`chdir ${join(d, "missing")}: no such file or directory`);
  });
  test("an existing config.json is kept: runc's message, exit 1", () => {
    const d = dir();
    writeFileSync(join(d, "config.json"), "mine");
    const r = cli(["spec"], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('msg="File config.json exists. Remove it first"');
    expect(readFileSync(join(d, "config.json"), "utf8")).toBe("mine");
  });
});
