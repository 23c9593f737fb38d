// The layer order of src/ (docs/ARCHITECTURE.md, "Layers"), read from the real import graph: a
// file may import its own module and any lower layer, never a higher one or a peer module of its
// own layer. Type-only imports count too: a type from above is a dependency on above.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const SRC = join(import.meta.dir, "..", "..", "src");

/** Lowest first. A module is a directory under src/ or a top-level file. */
export const LAYERS: readonly (readonly string[])[] = [
  ["base"], // errors, errno, quoting, time, the plan's bounds: imports nothing of ours
  ["config"], // runtime-spec documents: JSON, schemas, the Spec type, limits
  ["plan"], // Spec -> plan ops and their wire format
  ["ffi.ts"], // the bun:ffi boundary: the one dlopen table
  ["ffi-server.ts", "ffi-tty.ts", "ffi-devices.ts", "ffi-sdbus.ts"], // call families through it (the server's transport, terminals, v2 device filter, libsystemd)
  ["state", "cgroups", "seccomp"], // state dir, cgroup files, seccomp compile: each alone
  ["lib"], // the library verbs (the public Bun API)
  ["log.ts"], // the --log contract
  ["cli"], // argv -> one library call
  ["server"], // the resident server: an adapter around the CLI's dispatch
  ["main.ts"], // dist/bunrunc-core's entry
];

function moduleOf(path: string): string {
  const rel = relative(SRC, path);
  return rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : rel;
}

function rankOf(module: string): number {
  return LAYERS.findIndex((layer) => layer.includes(module));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The relative specifiers a file imports (static, type-only, re-exports, import(), require()). */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  const patterns = [/\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]!);
  return found.filter((s) => s.startsWith("."));
}

interface Edge {
  from: string;
  to: string;
}

/** Every import of one module by another under src/ (targets outside src/, like zig-out, are skipped). */
function graph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      const target = normalize(join(dirname(file), spec));
      if (relative(SRC, target).startsWith("..")) continue;
      edges.push({ from: relative(SRC, file), to: relative(SRC, target) });
    }
  }
  return edges;
}

/** The edges that break the layer order, as "from -> to (why)". */
export function violations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = moduleOf(join(SRC, from));
    const b = moduleOf(join(SRC, to));
    if (a === b) continue;
    const ra = rankOf(a);
    const rb = rankOf(b);
    if (ra < 0) out.push(`${from}: module ${a} has no layer (add it to LAYERS and docs/ARCHITECTURE.md)`);
    else if (rb < 0) out.push(`${from} -> ${to}: module ${b} has no layer`);
    else if (rb > ra) out.push(`${from} -> ${to}: ${a} imports ${b}, a higher layer`);
    else if (rb === ra) out.push(`${from} -> ${to}: ${a} imports its peer ${b}`);
  }
  return out;
}

describe("src/ layers", () => {
  const edges = graph();

  test("the import graph is read from the real files", () => {
    // A parser that found nothing would pass everything: pin edges that exist.
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: "lib/create.ts", to: "plan/compile.ts" });
    expect(edges).toContainEqual({ from: "cli/dispatch.ts", to: "cli/create.ts" }); // import()
    expect(edges.some((e) => e.from.startsWith("base/"))).toBe(false);
  });

  test("the checker catches an upward import", () => {
    expect(violations([{ from: "state/store.ts", to: "lib/errors.ts" }])).toEqual(["state/store.ts -> lib/errors.ts: state imports lib, a higher layer"]);
    expect(violations([{ from: "cgroups/paths.ts", to: "seccomp/compile.ts" }])).toHaveLength(1);
    expect(violations([{ from: "lib/create.ts", to: "base/errors.ts" }])).toEqual([]);
  });

  test("base/, config/, plan/ and state/ import nothing from lib/, cli/ or server/", () => {
    const low = ["base", "config", "plan", "state"];
    const high = ["lib", "cli", "server"];
    const bad = edges.filter((e) => low.includes(moduleOf(join(SRC, e.from))) && high.includes(moduleOf(join(SRC, e.to))));
    expect(bad).toEqual([]);
  });

  test("src/ffi.ts is the only file that imports bun:ffi", () => {
    const importers = sourceFiles(SRC).filter((f) => /\bfrom\s*["']bun:ffi["']|import\(\s*["']bun:ffi["']\s*\)|require\(\s*["']bun:ffi["']\s*\)/.test(readFileSync(f, "utf8")));
    expect(importers.map((f) => relative(SRC, f))).toEqual(["ffi.ts"]);
  });

  test("no file under src/ is past 400 lines (a longer one holds two things)", () => {
    const long = sourceFiles(SRC)
      .map((f) => ({ file: relative(SRC, f), lines: readFileSync(f, "utf8").split("\n").length - 1 }))
      .filter((f) => f.lines > 400);
    expect(long).toEqual([]);
  });

  test("every import follows the layer order", () => {
    expect(violations(edges)).toEqual([]);
  });
});
