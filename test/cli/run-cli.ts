// Runs the CLI as a user would (`bun src/main.ts ...`, or dist/bunrunc direct or served: see
// test/helpers/cli-path.ts), capturing everything.
// Each test makes its own temp dir (state root, log files, bundles) and removes it.
import { afterEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bunruncArgv } from "../helpers/cli-path.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const MAIN = join(REPO, "src/main.ts");
export const DIST = join(REPO, "dist/bunrunc");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { bin?: string; cwd?: string; stdin?: string } = {}): CliResult {
  const argv = opts.bin ? [opts.bin, ...args] : [...bunruncArgv(), ...args];
  const r = Bun.spawnSync(argv, { cwd: opts.cwd, stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

let serial = 0;
export function uniqueId(prefix = "cli"): string {
  return `${prefix}-${process.pid}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A temp dir for one test; `cleanup` removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-cli-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * What the calling file's tests make, removed after each test, last first: `dir()` is a fresh
 * temp dir; anything else goes in with `cleanups.push`. Call once, at the file's top level.
 */
export function perTest(): { dir: () => string; cleanups: (() => unknown)[] } {
  const cleanups: (() => unknown)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });
  const dir = () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
  return { dir, cleanups };
}

/** RFC 3339 (what Go's time.Time accepts when unmarshalling), with optional fraction. */
export const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
