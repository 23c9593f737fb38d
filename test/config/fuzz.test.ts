// Randomly broken configs through `create` (direct: BUNRUNC_SERVER=off): every failure is exactly
// one non-empty, bounded error line (after any warnings), exit 1, and leaves nothing in --root; a
// mutation that still makes a valid config creates a container, which is deleted. Seeded, so a failure names its case and
// repeats. Mutations never touch linux.namespaces (dropping the mount namespace would make the
// container's mounts the host's) and never add hooks.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { rng } from "../helpers/rng.ts";

const REPO = resolve(import.meta.dir, "../..");
const FRONT = join(REPO, "dist/bunrunc");
const canRun = process.getuid?.() === 0 && existsSync(FRONT) && existsSync(`${FRONT}-core`);
const SKIP = canRun ? "" : " [skipped: needs root and a build (scripts/build.sh)]";
const CASES = 200;
/** FUZZ_SEED=n runs another sequence. */
const SEED = Number(process.env.FUZZ_SEED) || 0x5eed12;
/** The printed line: a message of at most 1024 characters (src/base/quote.ts), a time prefix, logfmt quoting. */
const LINE_CHARS_MAX = 2400;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const PROTECTED = /^linux\.namespaces|^hooks/;

/** Every path (with its parent and key) in the document, but the protected ones. */
function paths(value: Json, at: string, out: { parent: Json[] | Record<string, Json>; key: string | number; path: string }[]): void {
  if (value === null || typeof value !== "object") return;
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const path = typeof key === "number" ? `${at}[${key}]` : at ? `${at}.${key}` : key;
    if (PROTECTED.test(path)) continue;
    out.push({ parent: value as never, key, path });
    paths(child, path, out);
  }
}

function randomValue(r: () => number): Json {
  const pick = Math.floor(r() * 12);
  const len = [0, 1, 5, 80, 4096, 4097, 20000][Math.floor(r() * 7)]!;
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor((r() - 0.5) * 2 ** 40);
    case 3:
      return -1;
    case 4:
      return 1.5;
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return "a\nb\r\nc";
    case 8:
      return "é€😀".repeat(Math.max(1, len / 4));
    case 9:
      return `/${"p".repeat(len)}`;
    case 10:
      return ["x".repeat(len), 7, null];
    default:
      return "z".repeat(len);
  }
}

/** One mutated config text: a value replaced, a member deleted, an entry doubled, or the text cut or flipped. */
function mutate(r: () => number): { text: string; what: string } {
  const spec = defaultSpec(["sleep", "100"]) as unknown as Json;
  const all: ReturnType<typeof pathsOf> = pathsOf(spec);
  const kind = Math.floor(r() * 6);
  if (kind === 5) {
    const text = JSON.stringify(spec, null, 1);
    const at = Math.floor(r() * text.length);
    return r() < 0.5 ? { text: text.slice(0, at), what: `cut at ${at}` } : { text: `${text.slice(0, at)}${"{}[],:\"\\x0"[Math.floor(r() * 11)]}${text.slice(at + 1)}`, what: `flip at ${at}` };
  }
  const target = all[Math.floor(r() * all.length)]!;
  const parent = target.parent as Record<string | number, Json>;
  if (kind === 3) {
    if (Array.isArray(parent)) parent.splice(target.key as number, 1);
    else delete parent[target.key];
    return { text: JSON.stringify(spec), what: `delete ${target.path}` };
  }
  if (kind === 4 && Array.isArray(parent)) {
    parent.push(structuredClone(parent[target.key as number]!));
    return { text: JSON.stringify(spec), what: `double ${target.path}` };
  }
  const value = randomValue(r);
  parent[target.key] = value;
  return { text: JSON.stringify(spec), what: `${target.path} = ${JSON.stringify(value).slice(0, 40)}` };
}

function pathsOf(spec: Json) {
  const out: { parent: Json[] | Record<string, Json>; key: string | number; path: string }[] = [];
  paths(spec, "", out);
  return out;
}

const bundles: TestBundle[] = [];
afterAll(() => {
  for (const b of bundles.splice(0)) b.cleanup();
});

function bunrunc(args: string[], dir: string): { code: number; stderr: string } {
  const errPath = join(dir, "stderr");
  const err = openSync(errPath, "w");
  try {
    const r = Bun.spawnSync([FRONT, ...args], { env: { ...process.env, BUNRUNC_SERVER: "off" }, stdin: "ignore", stdout: "ignore", stderr: err });
    return { code: r.exitCode ?? -1, stderr: readFileSync(errPath, "utf8") };
  } finally {
    closeSync(err);
  }
}

describe.skipIf(!canRun)(`${CASES} mutated configs through create, seed ${SEED}${SKIP}`, () => {
  test("each failure is one non-empty bounded line, exit 1, nothing left in --root", () => {
    const r = rng(SEED);
    const b = makeBundle(defaultSpec(["sleep", "100"]));
    bundles.push(b);
    let failures = 0;
    for (let i = 0; i < CASES; i++) {
      const { text, what } = mutate(r);
      writeFileSync(join(b.bundle, "config.json"), text);
      const id = uniqueId("fz");
      const out = bunrunc(["--root", b.root, "create", "--bundle", b.bundle, id], b.dir);
      const label = `case ${i} (${what})`;
      if (out.code === 0) {
        expect({ label, deleted: bunrunc(["--root", b.root, "delete", "--force", id], b.dir).code }).toEqual({ label, deleted: 0 });
        continue;
      }
      failures++;
      // Warnings may come first (an unknown capability is ignored with one, as runc does).
      const all = out.stderr.split("\n").filter((l, j, list) => j < list.length - 1 || l !== "");
      const lines = all.filter((l) => !l.includes(" level=warning "));
      if (lines.length !== 1 && process.env.FUZZ_DEBUG) writeFileSync(process.env.FUZZ_DEBUG, `${text}\n----\n${out.stderr}`);
      expect({ label, code: out.code, errorLines: lines.length }).toEqual({ label, code: 1, errorLines: 1 });
      expect({ label, empty: lines[0]!.replace(/^time="[^"]*" level=error msg=/, "").replace(/^"|"$/g, "").trim() === "" }).toEqual({ label, empty: false });
      expect({ label, long: lines[0]!.length > LINE_CHARS_MAX }).toEqual({ label, long: false });
      expect({ label, left: readdirSync(b.root).filter((n) => !n.startsWith("@")) }).toEqual({ label, left: [] });
    }
    // Most mutations break the config; a run where none did tested nothing.
    expect(failures).toBeGreaterThan(CASES / 4);
  }, 120_000);
});
