// The CLI-driven container suites (test/cli, test/lib/exec) run on `bun src/main.ts` in the main
// run; here they run again through dist/bunrunc, direct (the front execs bunrunc-core) and served
// (the resident server runs the call), so every path a user meets passes the same tests.
// See test/helpers/cli-path.ts.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { canRunFront, FRONT_SKIP, pathSkip, pathTest, PATHS, SERVED } from "../helpers/front.ts";

const REPO = resolve(import.meta.dir, "../..");
const SUITES = ["test/cli", "test/lib/exec"];
const SUITE_TIMEOUT_MS = 600_000;
const CALLS = 20;

/** `--debug` lines of CALLS calls made as the suites make them on `path` (cli-path.ts's argv, in a process started with BUNRUNC_TEST_PATH). */
function debugLinesOn(path: string): string {
  const root = mkdtempSync(join(tmpdir(), "bunrunc-paths-"));
  try {
    const script = `import { bunruncArgv } from ${JSON.stringify(join(REPO, "test/helpers/cli-path.ts"))};
for (let i = 0; i < ${CALLS}; i++) {
  const r = Bun.spawnSync([...bunruncArgv(), "--debug", "--root", ${JSON.stringify(root)}, "state", "nothing-here"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const err = r.stderr.toString();
  console.log(err.split("\\n")[0]);
  if (err.includes(${JSON.stringify(SERVED)})) break;
  Bun.sleepSync(50);
}`;
    const env: Record<string, string | undefined> = { ...process.env, BUNRUNC_TEST_PATH: path };
    delete env.BUNRUNC_SERVER;
    return Bun.spawnSync([process.execPath, "-e", script], { cwd: REPO, env, stdout: "pipe", stderr: "pipe" }).stdout.toString();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe.skipIf(!canRunFront)(`container suites on every path${FRONT_SKIP}`, () => {
  // The suites' own processes would pass on any path: this says each path is the one it names.
  test("the direct path is never served", () => {
    const lines = debugLinesOn("direct");
    expect(lines.trim().split("\n").length).toBe(CALLS);
    expect(lines).not.toContain(SERVED);
  });

  pathTest("served")(`the served path is served once its server is up${pathSkip("served")}`, () => {
    expect(debugLinesOn("served")).toContain(SERVED);
  });

  for (const path of PATHS) {
    for (const suite of SUITES) {
      pathTest(path)(`${suite} on the ${path} path${pathSkip(path)}`, () => {
        const env: Record<string, string | undefined> = { ...process.env, BUNRUNC_TEST_PATH: path };
        delete env.BUNRUNC_SERVER;
        // 30 s a test or hook, as the exec suites' own slow files take: a test that kills a caller
        // leaves its exec'd process to the host's PID 1, which may reap late, and the afterAll
        // delete then waits (10 s at most) for the container's init to go.
        const r = Bun.spawnSync([process.execPath, "test", "--timeout", "30000", suite], { cwd: REPO, env, stdout: "pipe", stderr: "pipe", timeout: SUITE_TIMEOUT_MS });
        const out = r.stderr.toString() + r.stdout.toString();
        const passed = Number(/^\s*(\d+) pass$/m.exec(out)?.[1] ?? 0);
        const failed = Number(/^\s*(\d+) fail$/m.exec(out)?.[1] ?? -1);
        if (r.exitCode !== 0 || failed !== 0) console.error(out.split("\n").filter((l) => /\(fail\)|error:|Expected|Received|timed out|^test\//.test(l)).slice(0, 60).join("\n"));
        expect({ exit: r.exitCode, failed }).toEqual({ exit: 0, failed: 0 });
        expect(passed).toBeGreaterThan(10);
      }, SUITE_TIMEOUT_MS + 10_000);
    }
  }
});
