// Which bunrunc the CLI-driven container suites run (test/cli, test/lib/exec), so one suite checks
// every path a user meets. BUNRUNC_TEST_PATH:
//   source  (default) `bun src/main.ts` — the code under test, no build needed
//   direct  dist/bunrunc with BUNRUNC_SERVER=off: the front execs bunrunc-core
//   served  dist/bunrunc as engines run it: the resident server runs the call where it can
// test/paths/suites.test.ts runs those suites again on `direct` and `served`.
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
export type CliPath = "source" | "direct" | "served";

export const CLI_PATH: CliPath = (() => {
  const p = process.env.BUNRUNC_TEST_PATH ?? "source";
  if (p !== "source" && p !== "direct" && p !== "served") throw new Error(`BUNRUNC_TEST_PATH: ${JSON.stringify(p)} is not source, direct or served`);
  // Spawned children inherit this process's environment: that is how `direct` reaches the front.
  if (p === "direct") process.env.BUNRUNC_SERVER = "off";
  return p;
})();

/** The argv prefix that runs bunrunc on CLI_PATH. */
export function bunruncArgv(): string[] {
  return CLI_PATH === "source" ? [process.execPath, join(REPO, "src/main.ts")] : [join(REPO, "dist/bunrunc")];
}
