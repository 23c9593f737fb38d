// Every example in examples/ runs here against real busybox containers, as a user runs it:
// `bun examples/<name>.ts --root <temp>/root` with the built dist/bunrunc as the shell examples'
// command. Each gets its own temp dir (TMPDIR too, so the example's workspace lands in it), and
// must leave no container in its root and nothing of its own behind.
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { list } from "../../src/lib/index.ts";

const REPO = resolve(import.meta.dir, "../..");
const EXAMPLES = join(REPO, "examples");
const FRONT = join(REPO, "dist/bunrunc");
const canRun = process.getuid?.() === 0 && existsSync(FRONT) && existsSync("/bin/busybox");
const SKIP = canRun ? "" : " [skipped: needs root, a build (scripts/build.sh) and /bin/busybox (busybox-static)]";

/** What each example must print (stdout); an example missing here fails the last test. */
const EXPECTED: Record<string, { args?: string[]; stdout: RegExp[] }> = {
  "lifecycle.ts": {
    stdout: [/^created lifecycle-\d+: init pid \d+, status created$/m, /^started: running$/m, /^hello from runc$/m, /^exec exited 7$/m, /^start again: bad-state: /m, /^killed: stopped$/m, /^deleted$/m],
  },
  "parallel.ts": {
    args: ["--count", "3"],
    stdout: [/^parallel-\d+-0 +10 +\d+\.\d +\d+ +\d+$/m, /^parallel-\d+-1 +11 /m, /^parallel-\d+-2 +12 /m],
  },
  "bench.ts": { args: ["--runs", "3"], stdout: [/^3 runs, \d+\.\d ms per run/m] },
};
/** Modules the examples share, not examples themselves. */
const HELPERS = new Set(["busybox.ts"]);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

for (const [name, want] of Object.entries(EXPECTED)) {
  test.skipIf(!canRun)(`examples/${name} runs against real containers and cleans up${SKIP}`, () => {
    const dir = mkdtempSync(join(tmpdir(), "bunrunc-test-examples-"));
    dirs.push(dir);
    const root = join(dir, "root");
    const r = Bun.spawnSync([process.execPath, join(EXAMPLES, name), "--root", root, ...(want.args ?? [])], {
      cwd: dir,
      env: { ...process.env, TMPDIR: dir, BUNRUNC: FRONT, BUNRUNC_SERVER: "off" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const stdout = r.stdout.toString();
    if (r.exitCode !== 0) console.error(stdout, r.stderr.toString());
    expect(r.exitCode).toBe(0);
    for (const line of want.stdout) expect(stdout).toMatch(line);
    // No container left in its root, and its workspace (bunrunc-example-*) is gone.
    if (existsSync(root)) expect(list({ root }).map((c) => c.id)).toEqual([]);
    // (dist/bunrunc-core itself leaves its extracted .bun-*.so in TMPDIR, for its next run.)
    expect(readdirSync(dir).filter((e) => e.startsWith("bunrunc-example-"))).toEqual([]);
  }, 120_000);
}

test("every example in examples/ is run above", () => {
  const scripts = readdirSync(EXAMPLES).filter((f) => f.endsWith(".ts") && !HELPERS.has(f));
  expect(scripts.sort()).toEqual(Object.keys(EXPECTED).sort());
});
