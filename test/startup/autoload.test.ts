// dist/bunrunc must not load a .env or bunfig.toml from its working directory: it runs as root
// wherever its caller stands (often the bundle directory), and a bunfig.toml there could preload
// code into it. scripts/build.sh turns Bun's autoloading off; this runs a real container with
// both files in the cwd and checks neither took effect.
import { afterEach, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";

const DIST = resolve(import.meta.dir, "../../dist/bunrunc");
const canRun = process.getuid?.() === 0 && existsSync(DIST);
const bundles: TestBundle[] = [];
afterEach(() => bundles.splice(0).forEach((b) => b.cleanup()));

test.skipIf(!canRun)(`run ignores .env and bunfig.toml in its working directory${canRun ? "" : " [skipped: needs root and dist/bunrunc]"}`, () => {
  const b = makeBundle(defaultSpec(["true"]));
  bundles.push(b);
  const marker = join(b.dir, "preloaded");
  writeFileSync(join(b.bundle, "pre.js"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
  writeFileSync(join(b.bundle, "bunfig.toml"), 'preload = ["./pre.js"]\n');
  writeFileSync(join(b.bundle, ".env"), "BUNRUNC_FFI_TRACE=1\n");
  const r = Bun.spawnSync([DIST, "--root", b.root, "run", uniqueId("autoload")], { cwd: b.bundle, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  const stderr = r.stderr.toString();
  expect({ code: r.exitCode, preloaded: existsSync(marker), ffiTrace: stderr.includes("ffi ") }).toEqual({ code: 0, preloaded: false, ffiTrace: false });
});
