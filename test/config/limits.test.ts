// Input size (issue 12): a config, process.json or value too large is refused with one short line
// naming where (file, or JSON path), exit 1, nothing left in --root; errors quote at most ~80
// characters of any value; and the resident server's memory stays bounded after such inputs.
// Through dist/bunrunc, direct (BUNRUNC_SERVER=off) and served.
import { afterAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseConfigJson } from "../../src/config/load.ts";
import { DOCUMENT_BYTES_MAX, MEMBERS_MAX, STRING_BYTES_MAX } from "../../src/config/limits.ts";
import { clip, quote, VALUE_CHARS_MAX } from "../../src/base/quote.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import type { Spec } from "../../src/config/types.ts";

// Generous: writing and refusing 50 MB documents takes seconds on a loaded host.
setDefaultTimeout(60_000);

const REPO = resolve(import.meta.dir, "../..");
const FRONT = join(REPO, "dist/bunrunc");
const CORE = join(REPO, "dist/bunrunc-core");
const canRun = process.getuid?.() === 0 && existsSync(FRONT) && existsSync(CORE);
const SKIP = canRun ? "" : " [skipped: needs root and a build (scripts/build.sh)]";
/** What the brief allows one refusal line (time prefix and quoting included). */
const LINE_CHARS_MAX = 300;
const MB = 1024 * 1024;

const bundles: TestBundle[] = [];
afterAll(() => {
  for (const b of bundles.splice(0)) b.cleanup();
});

interface Out {
  code: number;
  stderr: string;
}

/** stdout/stderr to files: a created container keeps its stdio open, a pipe would never close. */
function bunrunc(args: string[], served: boolean, dir: string): Out {
  const errPath = join(dir, `stderr-${uniqueId("e")}`);
  const err = openSync(errPath, "w");
  try {
    const env = served ? { ...process.env } : { ...process.env, BUNRUNC_SERVER: "off" };
    const r = Bun.spawnSync([FRONT, ...args], { env, stdin: "ignore", stdout: "ignore", stderr: err });
    return { code: r.exitCode ?? -1, stderr: readFileSync(errPath, "utf8") };
  } finally {
    closeSync(err);
  }
}

function bundleWith(edit: (spec: Spec) => void): TestBundle {
  const spec = defaultSpec(["sleep", "100"]);
  edit(spec);
  const b = makeBundle(spec);
  bundles.push(b);
  return b;
}

/** A config.json of `bytes` bytes at least: the default spec with one huge value at `set`. */
function hugeBundle(bytes: number, set: (spec: Spec, big: string) => void): TestBundle {
  return bundleWith((s) => set(s, "x".repeat(bytes)));
}

function expectOneLineRefusal(r: Out, b: TestBundle, contains: string): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]!.length).toBeLessThan(LINE_CHARS_MAX);
  expect(lines[0]).toContain(contains);
  expect(readdirSync(b.root).filter((n) => !n.startsWith("@"))).toEqual([]);
}

function serverUp(dir: string): void {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (bunrunc(["--debug", "--root", join(dir, "root"), "state", "nothing-here"], true, dir).stderr.includes("served by the resident server")) return;
    Bun.sleepSync(50);
  }
  throw new Error("the resident server never answered");
}

/** Resident servers of this checkout: dist/bunrunc-core processes started with BUNRUNC_SERVE. */
function serverPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/exe`) !== CORE) continue; // not an older build's server (" (deleted)")
      if (readFileSync(`/proc/${name}/environ`, "latin1").split("\0").some((v) => v.startsWith("BUNRUNC_SERVE="))) out.push(Number(name));
    } catch {}
  }
  return out;
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
}

describe("limits on what a document holds (parseConfigJson)", () => {
  const base = () => defaultSpec(["sh"]) as unknown as Record<string, unknown> & Spec;
  const problem = (spec: unknown) => {
    try {
      parseConfigJson(JSON.stringify(spec));
    } catch (e) {
      return (e as Error).message;
    }
    return "accepted";
  };

  test("one string past the plan's limit names its JSON path; at the limit it is accepted", () => {
    const at = base();
    at.process!.args = ["sh", "a".repeat(STRING_BYTES_MAX)];
    expect(problem(at)).toBe("accepted");
    const over = base();
    over.process!.args = ["sh", "-c", "true", "a".repeat(STRING_BYTES_MAX + 1)];
    expect(problem(over)).toBe(`config.json: process.args[3]: ${STRING_BYTES_MAX + 1} bytes, at most ${STRING_BYTES_MAX}`);
  });

  test("bytes, not characters: 1366 euro signs are 4098 bytes", () => {
    const spec = base();
    spec.hostname = "€".repeat(1366);
    expect(problem(spec)).toBe(`config.json: hostname: 4098 bytes, at most ${STRING_BYTES_MAX}`);
  });

  test("too many entries or members, and too long a key, name where", () => {
    const env = base();
    env.process!.env = Array.from({ length: MEMBERS_MAX + 1 }, (_, i) => `V${i}=1`);
    expect(problem(env)).toBe(`config.json: process.env: ${MEMBERS_MAX + 1} entries, at most ${MEMBERS_MAX}`);
    const sysctl = base();
    sysctl.linux!.sysctl = Object.fromEntries(Array.from({ length: MEMBERS_MAX + 1 }, (_, i) => [`net.k${i}`, "1"]));
    expect(problem(sysctl)).toBe(`config.json: linux.sysctl: ${MEMBERS_MAX + 1} members, at most ${MEMBERS_MAX}`);
    const key = base();
    key.linux!.sysctl = { ["k".repeat(STRING_BYTES_MAX + 1)]: "1" };
    expect(problem(key)).toBe(`config.json: linux.sysctl: a key of ${STRING_BYTES_MAX + 1} bytes, at most ${STRING_BYTES_MAX}`);
  });

  test("annotations never enter the plan: a long one is accepted (the document limit bounds them)", () => {
    const spec = base();
    spec.annotations = { "io.kubernetes.last-applied": "a".repeat(300_000) };
    expect(problem(spec)).toBe("accepted");
  });

  test("a value echoed in an error shows at most ~80 characters of it", () => {
    const cwd = base();
    cwd.process!.cwd = `relative/${"d".repeat(4000)}/end`;
    const m = problem(cwd);
    expect(m).toStartWith('config.json: process.cwd: must be an absolute path, got "relative/ddd');
    expect(m).toEndWith('dddd/end"');
    expect(m.length).toBeLessThan(160);
    const version = base();
    version.ociVersion = `9.${"9".repeat(4000)}`;
    expect(problem(version).length).toBeLessThan(160);
    const typed = base();
    (typed as Record<string, unknown>).hostname = ["x".repeat(4000)];
    expect(problem(typed)).toBe("config.json: hostname: expected string, got an array");
  });

  test("quote and clip keep both ends, at most VALUE_CHARS_MAX characters", () => {
    const long = `${"a".repeat(1000)}/last`;
    expect(clip(long).length).toBe(VALUE_CHARS_MAX);
    expect(clip(long)).toEndWith("/last");
    expect(JSON.parse(quote(long))).toHaveLength(VALUE_CHARS_MAX);
    expect(quote("short")).toBe('"short"');
  });
});

for (const served of [false, true]) {
  const path = served ? "served (default)" : "direct (BUNRUNC_SERVER=off)";
  describe.skipIf(!canRun)(`create refuses oversized input with one short line, ${path}${SKIP}`, () => {
    test("a 50 MB hostname: the file is refused by its size, before it is read", () => {
      const b = hugeBundle(50 * MB, (s, big) => (s.hostname = big));
      const r = bunrunc(["--root", b.root, "create", "--bundle", b.bundle, uniqueId("big")], served, b.dir);
      expectOneLineRefusal(r, b, `config.json: ${statSize(b)} bytes, at most ${DOCUMENT_BYTES_MAX}`);
    });

    test("a 9 MB env string: refused by size as well", () => {
      const b = hugeBundle(9 * MB, (s, big) => s.process!.env!.push(`BIG=${big}`));
      const r = bunrunc(["--root", b.root, "create", "--bundle", b.bundle, uniqueId("big")], served, b.dir);
      expectOneLineRefusal(r, b, `config.json: ${statSize(b)} bytes, at most ${DOCUMENT_BYTES_MAX}`);
    });

    test("a string just over the plan's limit names its JSON path", () => {
      const b = bundleWith((s) => (s.process!.args = ["sleep", "100", "y".repeat(STRING_BYTES_MAX + 1)]));
      const r = bunrunc(["--root", b.root, "create", "--bundle", b.bundle, uniqueId("arg")], served, b.dir);
      expectOneLineRefusal(r, b, `config.json: process.args[2]: ${STRING_BYTES_MAX + 1} bytes, at most ${STRING_BYTES_MAX}`);
    });

    test("a mount destination of 4000 bytes that fails in the init: the error quotes a cut value", () => {
      const dest = `/${"m".repeat(3990)}/x`;
      const b = bundleWith((s) => s.mounts!.push({ destination: dest, type: "bind", source: "/nonexistent-source-for-bunrunc-test", options: ["rbind"] }));
      const r = bunrunc(["--root", b.root, "create", "--bundle", b.bundle, uniqueId("mnt")], served, b.dir);
      expectOneLineRefusal(r, b, "create: ");
    });

    test("exec --process: a 9 MB process.json is refused by its size, the container untouched", () => {
      const b = bundleWith(() => {});
      const id = uniqueId("exec");
      expect(bunrunc(["--root", b.root, "create", "--bundle", b.bundle, id], served, b.dir).code).toBe(0);
      try {
        const proc = join(b.dir, "process.json");
        writeFileSync(proc, JSON.stringify({ ...defaultSpec(["true"]).process, env: [`BIG=${"x".repeat(9 * MB)}`] }));
        const r = bunrunc(["--root", b.root, "exec", "--process", proc, id], served, b.dir);
        expect(r.code).toBe(255);
        const lines = r.stderr.trimEnd().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]!.length).toBeLessThan(LINE_CHARS_MAX);
        expect(lines[0]).toContain(`bytes, at most ${DOCUMENT_BYTES_MAX}`);
        expect(bunrunc(["--root", b.root, "state", id], served, b.dir).code).toBe(0);
      } finally {
        expect(bunrunc(["--root", b.root, "delete", "--force", id], served, b.dir).code).toBe(0);
      }
    });
  });
}

describe.skipIf(!canRun)(`the resident server's memory after oversized inputs${SKIP}`, () => {
  test("50 MB, 9 MB, 7.5 MB (read and parsed, then refused) and over-limit configs leave its RSS under 150 MB", () => {
    const big = hugeBundle(50 * MB, (s, v) => (s.hostname = v));
    serverUp(big.dir);
    const near = hugeBundle(7.5 * MB, (s, v) => (s.hostname = v));
    const nine = hugeBundle(9 * MB, (s, v) => s.process!.env!.push(`BIG=${v}`));
    const over = bundleWith((s) => (s.hostname = "h".repeat(STRING_BYTES_MAX + 1)));
    for (let i = 0; i < 12; i++) {
      for (const b of [big, near, nine, over]) {
        const r = bunrunc(["--root", b.root, "create", "--bundle", b.bundle, uniqueId("mem")], true, b.dir);
        expect(r.code).toBe(1);
      }
    }
    // The near-limit config is read, parsed and refused by the server itself.
    expect(bunrunc(["--debug", "--root", near.root, "create", "--bundle", near.bundle, uniqueId("mem")], true, near.dir).stderr).toContain("served by the resident server");
    const pids = serverPids();
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) expect(rssBytes(pid) / MB).toBeLessThan(150);
  });
});

function statSize(b: TestBundle): number {
  return Bun.file(join(b.bundle, "config.json")).size;
}
