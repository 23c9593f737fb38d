// The Bun API as a product: `bun run pack`'s tarball installs into a fresh project with `bun add`
// and no registry at all (one that refuses every connection), and that project runs the
// examples against real containers with `import ... from "bunrunc"` resolving to the installed
// package (its TypeScript, its prebuilt libbunrunc.so, its bundled citty/consola/valibot) and
// the package's `bunrunc` command.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
const BUN = process.execPath;
const canRun = process.getuid?.() === 0 && existsSync("/bin/busybox") && existsSync(join(REPO, ".toolchain/zig/ziglang/zig"));
const SKIP = canRun ? "" : " [skipped: needs root, /bin/busybox (busybox-static) and the Zig toolchain (scripts/setup.sh)]";

let dir = "";
let project = "";
let tarball = "";
/** No registry: every connection refused; the install cache is this test's own. */
/** PATH gets a `bun` (the package's command is `#!/usr/bin/env bun`; this Bun's file is bun.exe). */
const offline = () => ({ ...process.env, BUN_CONFIG_REGISTRY: "http://127.0.0.1:9/", BUN_INSTALL_CACHE_DIR: join(dir, "cache"), PATH: `${join(dir, "bin")}:${process.env.PATH}` });

function sh(argv: string[], cwd: string, env: Record<string, string | undefined> = offline()) {
  const r = Bun.spawnSync(argv, { cwd, env, stdout: "pipe", stderr: "pipe" });
  const out = { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  if (out.code !== 0) console.error(`${argv.join(" ")} exited ${out.code}\n${out.stdout}${out.stderr}`);
  return out;
}

beforeAll(() => {
  if (!canRun) return;
  dir = mkdtempSync(join(tmpdir(), "bunrunc-test-package-"));
  project = join(dir, "consumer");
  mkdirSync(project);
  mkdirSync(join(dir, "bin"));
  symlinkSync(BUN, join(dir, "bin/bun"));
  const packed = sh([BUN, "run", "pack", "--destination", join(dir, "out")], REPO, process.env);
  expect(packed.code).toBe(0);
  tarball = packed.stdout.trim().split("\n").pop()!;
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!canRun)(`bun add <tarball> installs bunrunc with no registry${SKIP}`, () => {
  expect(tarball).toMatch(/bunrunc-\d+\.\d+\.\d+\.tgz$/);
  const added = sh([BUN, "add", tarball], project);
  expect(added.code).toBe(0);
  const pkg = join(project, "node_modules/bunrunc");
  const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
  expect(manifest.name).toBe("bunrunc");
  expect(manifest.types).toBe("./src/lib/index.ts");
  for (const f of ["zig-out/lib/libbunrunc.so", "src/lib/index.ts", "bin/bunrunc.ts", "examples/lifecycle.ts", "docs/api/README.md"]) expect(existsSync(join(pkg, f))).toBe(true);
  for (const dep of ["citty", "consola", "valibot"]) expect(existsSync(join(pkg, "node_modules", dep, "package.json"))).toBe(true);
  // "bunrunc" resolves to the installed copy, not to this repo.
  expect(Bun.resolveSync("bunrunc", project)).toBe(join(pkg, "src/lib/index.ts"));
}, 120_000);

test.skipIf(!canRun)(`the installed package runs the library example against a real container${SKIP}`, () => {
  // As a user starts from an example: copied into their project.
  for (const f of ["lifecycle.ts", "busybox.ts"]) cpSync(join(project, "node_modules/bunrunc/examples", f), join(project, f));
  const r = sh([BUN, "lifecycle.ts", "--root", join(dir, "root")], project, { ...offline(), TMPDIR: dir });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^started: running$/m);
  expect(r.stdout).toMatch(/^hello from runc$/m);
  expect(r.stdout).toMatch(/^exec exited 7$/m);
  expect(r.stdout).toMatch(/^deleted$/m);
}, 120_000);

test.skipIf(!canRun)(`the package's bunrunc command runs the Bun shell example${SKIP}`, () => {
  cpSync(join(project, "node_modules/bunrunc/examples/parallel.ts"), join(project, "parallel.ts"));
  const bin = join(project, "node_modules/.bin/bunrunc");
  expect(sh([bin, "--version"], project).stdout).toMatch(/^bunrunc version /);
  const r = sh([BUN, "parallel.ts", "--root", join(dir, "root"), "--count", "2"], project, { ...offline(), TMPDIR: dir, BUNRUNC: bin });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^parallel-\d+-1 +11 /m);
}, 120_000);
