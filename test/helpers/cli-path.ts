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
  // For the library calls in this process too. Children do not see it: Bun.spawn without `env`
  // passes the environment Bun started with, not process.env's changes (bunruncArgv says it).
  if (p === "direct") process.env.BUNRUNC_SERVER = "off";
  return p;
})();

/** The argv prefix that runs bunrunc on CLI_PATH (`direct`: env(1) execs the front with the server off). */
export function bunruncArgv(): string[] {
  if (CLI_PATH === "source") return [process.execPath, join(REPO, "src/main.ts")];
  const front = join(REPO, "dist/bunrunc");
  return CLI_PATH === "direct" ? ["env", "BUNRUNC_SERVER=off", front] : [front];
}
