// `bun run api-docs`: the API reference (docs/api/README.md) generated from the source. It reads
// what src/lib/index.ts exports, finds each name's declaration in the module it comes from
// (following `export const x = ns.y` to y), and writes the declaration's doc comment and its
// signature: a function up to its body, an interface or type whole, a class without its
// method bodies. No TypeScript compiler: a scanner that knows strings, comments, template
// literals and bracket depth, which is all a declaration's extent needs.
//
//   bun scripts/api-docs.ts           writes docs/api/README.md
//   bun scripts/api-docs.ts --check   exits 1 (and says so) when the committed file is stale
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "..");
export const INDEX = join(REPO, "src/lib/index.ts");
export const OUTPUT = join(REPO, "docs/api/README.md");

/** One exported name: what it is called, where its declaration lives, and that declaration. */
export interface Entry {
  name: string;
  /** The declared name when exported under another (`del as delete`). */
  local: string;
  file: string;
  kind: "function" | "interface" | "type" | "class" | "const";
  doc: string;
  signature: string;
}

/** The source with every comment, string and template literal's contents blanked to spaces (same
 * offsets), so brackets and keywords can be found without being fooled by text. */
export function blank(src: string): string {
  const out = src.split("");
  let i = 0;
  const wipe = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      wipe(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      wipe(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      let k = i + 1;
      while (k < src.length && src[k] !== c) k += src[k] === "\\" ? 2 : 1;
      // The quotes stay (a type may be a string literal), the contents go.
      wipe(i + 1, k);
      i = k + 1;
    } else {
      i++;
    }
  }
  return out.join("");
}

/** index.ts's `export { a, b as c, type T } from "./x.ts"` statements, in order. */
export function reexports(indexSrc: string): { name: string; local: string; from: string }[] {
  const out: { name: string; local: string; from: string }[] = [];
  const statement = /export\s+(type\s+)?\{([^}]*)\}\s*from\s*"([^"]+)"/g;
  for (const m of indexSrc.matchAll(statement)) {
    for (const part of m[2]!.split(",").map((p) => p.trim()).filter(Boolean)) {
      const words = part.replace(/^type\s+/, "").split(/\s+as\s+/);
      out.push({ local: words[0]!.trim(), name: (words[1] ?? words[0])!.trim(), from: m[3]! });
    }
  }
  const other = indexSrc.replace(statement, "").match(/^export\s.*$/m);
  if (other) throw new Error(`api-docs: src/lib/index.ts: only \`export { ... } from "..."\` is understood, not: ${other[0]}`);
  return out;
}

/** The index of the bracket that closes the one opened at `open` (in blanked source). Angle
 * brackets are not counted: a `<` may be a comparison in a body, and the brackets a generic's
 * arguments hold are balanced on their own. */
function closing(b: string, open: number): number {
  const pairs: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
  const stack: string[] = [];
  for (let i = open; i < b.length; i++) {
    const c = b[i]!;
    if (c in pairs) stack.push(pairs[c]!);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i;
    }
  }
  throw new Error("api-docs: unbalanced brackets");
}

/** Where an interface's or class's body opens: the first `{` outside the header's generic
 * arguments (`extends Base<{ k: 1 }> {`). */
function headerBrace(b: string, from: number): number {
  let angle = 0;
  for (let i = from; i < b.length; i++) {
    const c = b[i]!;
    if (c === "<") angle++;
    else if (c === ">" && b[i - 1] !== "=") angle--;
    else if (c === "{") {
      if (angle === 0) return i;
      i = closing(b, i);
    }
  }
  throw new Error("api-docs: no body");
}

/** Where a function's body opens: the first `{` at depth 0 after its parameter list that does
 * not begin or continue a return type. */
function bodyStart(b: string, from: number): number {
  const params = b.indexOf("(", from);
  let i = closing(b, params) + 1;
  let prev = ")";
  while (i < b.length) {
    const c = b[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "{") {
      // After these a type goes on (`): { a: A } {`, `Promise<{ a: A }>`); elsewhere the body opens.
      if (":|&,<".includes(prev)) {
        i = closing(b, i) + 1;
        prev = "}";
        continue;
      }
      return i;
    }
    if (c === "(" || c === "[") {
      i = closing(b, i) + 1;
      prev = c === "(" ? ")" : "]";
      continue;
    }
    if (c === "=" && b[i + 1] === ">") {
      prev = ":"; // after an arrow a type follows, as after a colon
      i += 2;
      continue;
    }
    prev = c;
    i++;
  }
  throw new Error("api-docs: no function body");
}

/** The doc comment directly above `at` (no blank line between): a `/** *\/` block, else a run
 * of `//` lines; as plain text. */
export function docAbove(src: string, at: number): string {
  const before = src.slice(0, at).replace(/[ \t]*$/, "");
  const lineStart = before.length === 0 || before.endsWith("\n");
  const above = before.replace(/\s*$/, "");
  const start = above.lastIndexOf("/**");
  // A /** */ block ending on the line right above, that begins its own line.
  if (lineStart && above.endsWith("*/") && start >= 0 && !above.slice(start, -2).includes("*/") && /(^|\n)[ \t]*$/.test(above.slice(0, start)) && !/\n[ \t]*\n/.test(before.slice(above.length))) {
    return above
      .slice(start + 3, -2)
      .split("\n")
      .map((l) => l.replace(/^\s*\* ?/, "").trimEnd())
      .join("\n")
      .trim();
  }
  const lines = before.split("\n");
  lines.pop(); // the declaration's own line start
  const doc: string[] = [];
  while (lines.length && /^\s*\/\/(?!\/)/.test(lines[lines.length - 1]!)) doc.unshift(lines.pop()!.replace(/^\s*\/\/ ?/, ""));
  return doc.join("\n").trim();
}

/** `src` between `from` and `to` with every method body of a class replaced by `;`. */
function withoutBodies(src: string, b: string, from: number, open: number, to: number): string {
  let out = src.slice(from, open + 1);
  let i = open + 1;
  while (i < to) {
    const c = b[i]!;
    if (c === "(") {
      const end = closing(b, i);
      out += src.slice(i, end + 1);
      i = end + 1;
      // A method: `(...)` then maybe `: type`, then its body.
      const rest = b.slice(i, to);
      const m = /^(\s*:\s*[^{;=]*(?:\{[^}]*\}[^{;=]*)?)?\s*\{/.exec(rest);
      if (m) {
        const braceAt = i + m[0].length - 1;
        out += src.slice(i, braceAt).trimEnd() + ";";
        i = closing(b, braceAt) + 1;
      }
      continue;
    }
    out += src[i];
    i++;
  }
  return out + "}";
}

const declaration = (name: string) =>
  new RegExp(`^export\\s+(?:declare\\s+)?(?:async\\s+)?(function\\*?|interface|type|class|const|let)\\s+${name.replace(/\$/g, "\\$")}\\b`, "m");

/** The declaration of `local` in `file` (following one `export const x = ns.y` alias). */
export function find(file: string, local: string, name = local, seen = 0): Entry {
  const src = readFileSync(file, "utf8");
  const b = blank(src);
  const m = declaration(local).exec(b);
  const where = relative(REPO, file);
  if (!m) throw new Error(`api-docs: ${where}: no exported declaration of ${local}`);
  const at = m.index;
  const keyword = m[1]!;
  const doc = docAbove(src, at);
  let signature: string;
  let kind: Entry["kind"];
  if (keyword.startsWith("function")) {
    kind = "function";
    signature = src.slice(at, bodyStart(b, at)).trim();
  } else if (keyword === "interface") {
    kind = "interface";
    signature = src.slice(at, closing(b, headerBrace(b, at)) + 1);
  } else if (keyword === "class") {
    kind = "class";
    const open = headerBrace(b, at);
    signature = withoutBodies(src, b, at, open, closing(b, open));
  } else if (keyword === "type") {
    kind = "type";
    const semi = /;\s*(?:\n|$)/g;
    semi.lastIndex = at;
    // The end: the first `;` that closes a line at bracket depth 0.
    let end = -1;
    for (let s = semi.exec(b); s; s = semi.exec(b)) {
      const text = b.slice(at, s.index);
      const depth = [...text].reduce((d, c) => d + ("([{".includes(c) ? 1 : ")]}".includes(c) ? -1 : 0), 0);
      if (depth === 0) {
        end = s.index + 1;
        break;
      }
    }
    if (end < 0) throw new Error(`api-docs: ${where}: type ${local} has no end`);
    signature = src.slice(at, end);
  } else {
    kind = "const";
    const line = src.slice(at, src.indexOf("\n", at));
    const alias = /=\s*([\w$]+)\.([\w$]+);\s*$/.exec(line);
    if (alias && seen < 2) {
      // `export const defaultRoot = store.defaultRoot;`: document what it names.
      const ns = new RegExp(`import\\s+\\*\\s+as\\s+${alias[1]}\\s+from\\s+["']([^"']+)["']`).exec(src);
      if (!ns) throw new Error(`api-docs: ${where}: ${alias[1]} is not a namespace import`);
      const target = find(resolve(dirname(file), ns[1]!), alias[2]!, name, seen + 1);
      return { ...target, doc: doc || target.doc };
    }
    signature = line.replace(/\s*=\s*[\s\S]*$/, "");
  }
  return { name, local, file: where, kind, doc, signature: signature.trim() };
}

export function entries(): Entry[] {
  const indexSrc = readFileSync(INDEX, "utf8");
  return reexports(indexSrc).map((r) => find(resolve(dirname(INDEX), r.from), r.local, r.name));
}

const anchor = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-");

export function render(list: Entry[]): string {
  const intro = docAbove(readFileSync(INDEX, "utf8"), readFileSync(INDEX, "utf8").search(/^export/m));
  const out: string[] = [
    "# bunrunc API reference",
    "",
    "<!-- Generated by scripts/api-docs.ts from src/lib/index.ts and the modules it re-exports. Do not edit: run `bun run api-docs`. -->",
    "",
    intro,
    "",
    '```ts',
    'import { create, start, exec, kill, state, list, delete as remove } from "bunrunc";',
    '```',
    "",
    "Install: `bun run pack` in the repository, then `bun add path/to/bunrunc-<version>.tgz` (linux-x64; the containers need root). Examples: [examples/](../../examples/).",
    "",
    "## Contents",
    "",
  ];
  const byFile = new Map<string, Entry[]>();
  for (const e of list) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  for (const [file, group] of byFile) out.push(`- ${file}: ${group.map((e) => `[${e.name}](#${anchor(e.name)})`).join(", ")}`);
  for (const [file, group] of byFile) {
    out.push("", `## ${file}`);
    for (const e of group) {
      out.push("", `### ${e.name}`, "");
      if (e.name !== e.local) out.push(`\`${e.name}\` is \`${e.local}\` under the name the CLI verb has.`, "");
      if (e.doc) out.push(e.doc, "");
      out.push("```ts", e.signature, "```");
    }
  }
  return out.join("\n") + "\n";
}

if (import.meta.main) {
  const text = render(entries());
  if (process.argv.includes("--check")) {
    const committed = existsSync(OUTPUT) ? readFileSync(OUTPUT, "utf8") : "";
    if (committed !== text) {
      console.error(`${relative(REPO, OUTPUT)} is out of date with the source: run \`bun run api-docs\``);
      process.exit(1);
    }
  } else {
    mkdirSync(dirname(OUTPUT), { recursive: true });
    writeFileSync(OUTPUT, text);
    console.log(`wrote ${relative(REPO, OUTPUT)}`);
  }
}
