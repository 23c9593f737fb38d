// The whole tree type-checks (tsconfig.json: src, test, scripts, bench, examples, bin). Bun runs
// TypeScript without checking it, so without this a renamed module, a lost import or a verb's
// typed flags gone wrong would surface only when that line runs.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
const TSC = join(REPO, "node_modules/.bin/tsc");

test.skipIf(!existsSync(TSC))(`tsc --noEmit finds no error${existsSync(TSC) ? "" : " [skipped: node_modules/.bin/tsc missing — run scripts/setup.sh]"}`, () => {
  const r = Bun.spawnSync([TSC, "--noEmit", "-p", REPO], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString() + r.stderr.toString();
  expect(out.split("\n").filter((l) => l.includes("error TS")).slice(0, 20)).toEqual([]);
  expect(r.exitCode).toBe(0);
}, 240_000);
