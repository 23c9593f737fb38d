// The conformance tier: the OCI runtime-tools validation suite (v0.9.0, built from the Go module
// proxy by scripts/conformance/build.sh into .toolchain/runtime-tools) against dist/bunrunc with
// a private --root, each program's failures compared with test/conformance/expected.tsv. A
// failure the table does not name fails that program's test; every failure the table names says
// why it is expected. Debian's runc goes through the same tier as the control, and both totals
// are printed. Set BUNRUNC_CONFORMANCE=off to leave the tier out.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ProgramResult, programs, readExpected, runSuite, totals } from "./suite.ts";

const REPO = resolve(import.meta.dir, "../..");
const FRONT = join(REPO, "dist/bunrunc");
const TABLE = join(import.meta.dir, "expected.tsv");
const RUNC = ["/usr/sbin/runc", "/usr/bin/runc"].find((p) => existsSync(p));

/** Builds the suite (cached); why the tier cannot run, or "" when it can. */
function prepare(): { bin: string; skip: string } {
  if (process.env.BUNRUNC_CONFORMANCE === "off") return { bin: "", skip: "BUNRUNC_CONFORMANCE=off" };
  if (process.getuid?.() !== 0) return { bin: "", skip: "needs root" };
  if (!existsSync(FRONT)) return { bin: "", skip: "needs a build (scripts/build.sh)" };
  const r = Bun.spawnSync(["bash", join(REPO, "scripts/conformance/build.sh")], { stdout: "pipe", stderr: "pipe", timeout: 15 * 60_000 });
  if (r.exitCode !== 0) {
    const why = r.stderr.toString().trim().split("\n").slice(-1)[0] ?? "";
    return { bin: "", skip: `the runtime-tools suite did not build (no Go toolchain, or no Go module proxy?): ${why.slice(0, 160)}` };
  }
  return { bin: join(r.stdout.toString().trim().split("\n").slice(-1)[0]!, "bin"), skip: "" };
}

const { bin, skip } = prepare();
const expected = readExpected(TABLE);
const tablePrograms = [...new Set(expected.map((e) => e.program))].sort();
const tierTest = (skip ? test.skip : test) as typeof test;
const because = skip ? ` [skipped: ${skip}]` : "";

const results = new Map<string, ProgramResult>();

function summary(name: string, rs: ProgramResult[]): string {
  const t = totals(rs);
  return `${name}: ${t.ok} ok, ${t.notOk} not ok, ${t.skipped} skipped; ${rs.length - t.failingPrograms}/${rs.length} programs without a failure`;
}

describe("runtime-tools validation suite", () => {
  tierTest(
    `every validation program runs against dist/bunrunc (served), and the table lists exactly the programs built${because}`,
    () => {
      const names = programs(bin);
      expect(names).toEqual(tablePrograms);
      const dir = mkdtempSync(join(tmpdir(), "bunrunc-conformance-"));
      const allowed = new Map(tablePrograms.map((p) => [p, expected.filter((e) => e.program === p).map((e) => e.result)]));
      const run = runSuite(bin, dir, [FRONT, "--root", join(dir, "root")], names, allowed);
      for (const r of run.results) results.set(r.program, r);
      const retried = run.results.filter((r) => r.retried).map((r) => r.program);
      if (retried.length) console.log(`run twice after an unexpected failure: ${retried.join(", ")}`);
      console.log(summary("bunrunc", run.results));
    },
    10 * 60_000,
  );

  for (const program of tablePrograms) {
    const rows = expected.filter((e) => e.program === program);
    const allowed = rows.filter((e) => e.result !== "pass").map((e) => e.result);
    tierTest(`${program}: ${allowed.length ? `only the ${allowed.length} expected failure(s)` : "passes"}${because}`, () => {
      const r = results.get(program);
      expect(r, `${program} did not run (see the first test)`).toBeDefined();
      const unexpected = r!.failures.filter((f) => !allowed.includes(f));
      // A new failure is named with what the runtime said.
      expect(unexpected.map((f) => `${f}  [${r!.stderrTail}]`)).toEqual([]);
      const fixed = allowed.filter((f) => !r!.failures.includes(f));
      if (fixed.length) console.log(`${program}: no longer fails (remove from expected.tsv): ${fixed.join("; ")}`);
    });
  }

  // The control: the same tier with Debian's runc. Its failures are printed, not judged: a
  // failure both runtimes share is the suite's or the host's, one only bunrunc has is bunrunc's.
  const controlTest = (skip || !RUNC ? test.skip : test) as typeof test;
  controlTest(
    `runc goes through the same tier (control; both totals printed)${because || (RUNC ? "" : " [skipped: runc is not installed]")}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), "bunrunc-conformance-runc-"));
      const run = runSuite(bin, dir, [RUNC!, "--root", join(dir, "root")], programs(bin));
      const mine = [...results.values()];
      console.log(summary("runc (control)", run.results));
      if (mine.length) console.log(summary("bunrunc", mine));
      for (const r of run.results) {
        const b = results.get(r.program);
        const onlyRunc = r.failures.filter((f) => !b?.failures.includes(f));
        if (onlyRunc.length) console.log(`runc only: ${r.program}: ${onlyRunc.join("; ")}`);
      }
      for (const b of mine) {
        const r = run.results.find((x) => x.program === b.program);
        const onlyBunrunc = b.failures.filter((f) => !r?.failures.includes(f));
        if (onlyBunrunc.length) console.log(`bunrunc only: ${b.program}: ${onlyBunrunc.join("; ")}`);
      }
      expect(run.results.length).toBe(programs(bin).length);
    },
    10 * 60_000,
  );
});
