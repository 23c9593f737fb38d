// scripts/install.sh: one command builds when needed and installs the single binary.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO, removeTempDir, run, tempDir } from "./rig.ts";

const prefix = tempDir("bunrunc-e2e-install-");
afterAll(() => removeTempDir(prefix));

test("install.sh --prefix DIR puts an executable copy of dist/bunrunc in DIR/sbin", () => {
  const r = run(["bash", join(REPO, "scripts/install.sh"), "--prefix", prefix], { timeoutMs: 300_000 });
  expect(r.code).toBe(0);
  const dest = join(prefix, "sbin/bunrunc");
  expect(r.stdout).toContain(`installed ${dest}`);
  expect(statSync(dest).mode & 0o777).toBe(0o755);
  expect(readFileSync(dest).equals(readFileSync(join(REPO, "dist/bunrunc")))).toBe(true);
}, 300_000);
