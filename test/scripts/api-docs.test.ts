// docs/api/README.md is generated from the source (scripts/api-docs.ts): the committed file must
// match what the source says now, name every runtime export of src/lib/index.ts, and the scanner
// must find declarations' extents and doc comments where TypeScript puts them.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { blank, docAbove, find, OUTPUT, reexports } from "../../scripts/api-docs.ts";
import * as api from "../../src/lib/index.ts";

const REPO = resolve(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "bunrunc-test-api-docs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the committed API reference is up to date with the source", () => {
  const r = Bun.spawnSync([process.execPath, join(REPO, "scripts/api-docs.ts"), "--check"], { cwd: REPO, stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
});

test("every runtime export of the library has its section", () => {
  const doc = readFileSync(OUTPUT, "utf8");
  const headings = new Set([...doc.matchAll(/^### (\S+)$/gm)].map((m) => m[1]));
  const missing = Object.keys(api).filter((name) => !headings.has(name));
  expect(missing).toEqual([]);
  expect(headings.has("CreateOptions")).toBe(true);
});

test("declarations are cut where they end, with the doc comment above them", () => {
  const file = join(dir, "fixture.ts");
  writeFileSync(
    file,
    [
      "import * as other from './other.ts';",
      "/** Makes a thing; `{` in a comment and \"}\" in a string do not count. */",
      'export async function make(opts: { a: string; b?: (x: number) => { y: 1 } }): Promise<{ ok: true; s: "}" }> {',
      "  if (1 < 2) { return { ok: true, s: '}' }; }",
      "}",
      "",
      "// A line comment",
      "// of two lines.",
      "export interface Shape extends Base<{ k: 1 }> {",
      "  /** inner */",
      "  f?: () => void;",
      "}",
      "",
      "/** Not this one: a blank line follows. */",
      "",
      "export type Kind = \"a\" | \"b;\" // c",
      "  | { d: 1 };",
      "export class Thing extends Error {",
      "  readonly n = 1;",
      "  constructor(readonly x: number) {",
      "    super(`${x}`);",
      "  }",
      "  get(): { v: number } {",
      "    return { v: 1 };",
      "  }",
      "}",
      "export const alias = other.target;",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "other.ts"), "/** The target. */\nexport function target(): void {}\n");

  const make = find(file, "make");
  expect(make.signature).toBe('export async function make(opts: { a: string; b?: (x: number) => { y: 1 } }): Promise<{ ok: true; s: "}" }>');
  expect(make.doc).toBe('Makes a thing; `{` in a comment and "}" in a string do not count.');
  const shape = find(file, "Shape");
  expect(shape.doc).toBe("A line comment\nof two lines.");
  expect(shape.signature.endsWith("f?: () => void;\n}")).toBe(true);
  const kind = find(file, "Kind");
  expect(kind.doc).toBe("");
  expect(kind.signature).toBe('export type Kind = "a" | "b;" // c\n  | { d: 1 };');
  const thing = find(file, "Thing");
  expect(thing.signature).toBe("export class Thing extends Error {\n  readonly n = 1;\n  constructor(readonly x: number);\n  get(): { v: number };\n}");
  const alias = find(file, "alias");
  expect(alias.signature).toBe("export function target(): void");
  expect(alias.doc).toBe("The target.");
  expect(() => find(file, "absent")).toThrow("no exported declaration of absent");
});

test("blank keeps offsets; index.ts's re-exports are read with their aliases", () => {
  const src = 'a("x{") // }\n/* { */ b`${1}`';
  expect(blank(src).length).toBe(src.length);
  expect(blank(src)).not.toMatch(/[{}]/);
  expect(reexports('export { del as delete, del, type T } from "./d.ts";')).toEqual([
    { local: "del", name: "delete", from: "./d.ts" },
    { local: "del", name: "del", from: "./d.ts" },
    { local: "T", name: "T", from: "./d.ts" },
  ]);
  expect(() => reexports("export const x = 1;")).toThrow("only `export { ... } from");
  expect(docAbove("// one\n\nexport const x = 1;", 14)).toBe("");
});
