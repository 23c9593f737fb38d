// spec-fixtures/valid/everything.json sets every field the Config schema knows, so each field's
// schema runs on a real value at least once. Walks the valibot schema objects (a test-only look at
// their structure: optional/nullable wrap, later() = lazy, obj() = pipe(custom, loose_object), map() = pipe(custom, record)).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseJson } from "../../src/config/json.ts";
import { Config } from "../../src/config/schema.ts";

// Not Linux, or superseded spellings kept for old clients.
const NOT_EXPECTED = new Set(["process.commandLine", "linux.intelRdt.enableCMT", "linux.intelRdt.enableMBM"]);

type AnySchema = { type: string; getter?: (input: unknown) => AnySchema; wrapped?: AnySchema; pipe?: AnySchema[]; entries?: Record<string, AnySchema>; item?: AnySchema; value?: AnySchema };

function unwrap(s: AnySchema): AnySchema {
  for (;;) {
    if ((s.type === "optional" || s.type === "nullable") && s.wrapped) s = s.wrapped;
    else if (s.type === "lazy" && s.getter) s = s.getter(undefined); // later(): built on first use
    else if (s.type === "custom" && (s.pipe?.[1]?.type === "loose_object" || s.pipe?.[1]?.type === "record")) s = s.pipe[1]!;
    else return s;
  }
}

/** Records each field the schema declares under a reached object, and each one the value sets. */
function walk(schema: AnySchema, value: unknown, path: string, declared: Set<string>, present: Set<string>): void {
  const s = unwrap(schema);
  if (s.type === "loose_object") {
    for (const [key, child] of Object.entries(s.entries!)) {
      const at = path ? `${path}.${key}` : key;
      declared.add(at);
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) continue;
      present.add(at);
      walk(child, v, at, declared, present);
    }
  } else if (s.type === "array") {
    for (const item of value as unknown[]) walk(s.item!, item, path, declared, present);
  } else if (s.type === "record") {
    for (const v of Object.values(value as Record<string, unknown>)) walk(s.value!, v, path, declared, present);
  }
}

test("everything.json sets every Config field (in at least one item of each list)", () => {
  const text = readFileSync(resolve(import.meta.dir, "../../spec-fixtures/valid/everything.json"), "utf8");
  const declared = new Set<string>();
  const present = new Set<string>();
  walk(Config as unknown as AnySchema, parseJson(text, { source: "everything.json" }), "", declared, present);
  expect(declared.size).toBeGreaterThan(150); // the walk really reached the schema
  expect([...declared].filter((p) => !present.has(p) && !NOT_EXPECTED.has(p))).toEqual([]);
});
