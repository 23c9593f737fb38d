// The Zig unit tests (zig/tests.zig: the plan decoder, the init's op dispatch, the front's record
// handling, seccomp, cgroup devices) run under bun test, so CI runs them with everything else.
// And the house rule for Zig: no file over ~400 lines (past that it holds two things).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");

test("zig build test passes", () => {
  const r = Bun.spawnSync(["bash", join(REPO, "scripts/zig.sh"), "build", "test", "--summary", "all"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString() + r.stderr.toString();
  if (r.exitCode !== 0) console.error(out);
  expect(r.exitCode).toBe(0);
  // The summary names how many ran: a test root that lost its imports would pass with none.
  const ran = Number(/(\d+)\/\d+ tests passed/.exec(out)?.[1] ?? 0);
  expect(ran).toBeGreaterThanOrEqual(32);
}, 300_000);

test("no Zig file is over 400 lines", () => {
  const long: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".zig") && readFileSync(p, "utf8").split("\n").length > 401) long.push(p.slice(REPO.length + 1));
    }
  };
  walk(join(REPO, "zig"));
  expect(long).toEqual([]);
});
