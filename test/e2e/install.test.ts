// scripts/install.sh: one command builds when needed and installs the front and its core.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO, removeTempDir, run, tempDir } from "./rig.ts";

const prefix = tempDir("bunrunc-e2e-install-");
afterAll(() => removeTempDir(prefix));

test("install.sh --prefix DIR puts executable copies of dist/bunrunc and dist/bunrunc-core in DIR/sbin", () => {
  const r = run(["bash", join(REPO, "scripts/install.sh"), "--prefix", prefix], { timeoutMs: 300_000 });
  expect(r.code).toBe(0);
  const dest = join(prefix, "sbin/bunrunc");
  expect(r.stdout).toContain(`installed ${dest}`);
  expect(statSync(dest).mode & 0o777).toBe(0o755);
  expect(readFileSync(dest).equals(readFileSync(join(REPO, "dist/bunrunc")))).toBe(true);
  expect(readFileSync(`${dest}-core`).equals(readFileSync(join(REPO, "dist/bunrunc-core")))).toBe(true);
  // The installed front finds its own core: the version line comes from it. (Server off: a
  // resident server of this temp copy would outlive the test.)
  const v = run([dest, "--version"], { env: { BUNRUNC_SERVER: "off" } });
  expect(v.code).toBe(0);
  expect(v.stdout).toMatch(/^bunrunc version /);
}, 300_000);
