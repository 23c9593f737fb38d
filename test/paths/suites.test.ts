// The CLI-driven container suites (test/cli, test/lib/exec) run on `bun src/main.ts` in the main
// run; here they run again through dist/bunrunc, direct (the front execs bunrunc-core) and served
// (the resident server runs the call), so every path a user meets passes the same tests.
// See test/helpers/cli-path.ts.
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { canRunFront, FRONT_SKIP, pathSkip, pathTest, PATHS } from "../helpers/front.ts";

const REPO = resolve(import.meta.dir, "../..");
const SUITES = ["test/cli", "test/lib/exec"];
const SUITE_TIMEOUT_MS = 600_000;

describe.skipIf(!canRunFront)(`container suites on every path${FRONT_SKIP}`, () => {
  for (const path of PATHS) {
    for (const suite of SUITES) {
      pathTest(path)(`${suite} on the ${path} path${pathSkip(path)}`, () => {
        const env: Record<string, string | undefined> = { ...process.env, BUNRUNC_TEST_PATH: path };
        delete env.BUNRUNC_SERVER;
        const r = Bun.spawnSync([process.execPath, "test", suite], { cwd: REPO, env, stdout: "pipe", stderr: "pipe", timeout: SUITE_TIMEOUT_MS });
        const out = r.stderr.toString() + r.stdout.toString();
        const passed = Number(/^\s*(\d+) pass$/m.exec(out)?.[1] ?? 0);
        const failed = Number(/^\s*(\d+) fail$/m.exec(out)?.[1] ?? -1);
        if (r.exitCode !== 0 || failed !== 0) console.error(out.split("\n").filter((l) => /\(fail\)|error:|Expected|Received/.test(l)).slice(0, 40).join("\n"));
        expect({ exit: r.exitCode, failed }).toEqual({ exit: 0, failed: 0 });
        expect(passed).toBeGreaterThan(10);
      }, SUITE_TIMEOUT_MS + 10_000);
    }
  }
});
