// Every case in spec-fixtures/: valid/*.json validate; invalid/*.json fail with exactly the line
// in their sibling .expected file.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseConfigJson } from "../../src/config/load.ts";
import { BunruncError } from "../../src/base/errors.ts";

const FIXTURES = resolve(import.meta.dir, "../../spec-fixtures");
const cases = (dir: string) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith(".json"))
    .sort();

function failureOf(text: string): BunruncError {
  try {
    parseConfigJson(text);
  } catch (e) {
    if (e instanceof BunruncError) return e;
    throw e;
  }
  throw new Error("validated, but the case expects a failure");
}

describe("spec-fixtures/valid", () => {
  const names = cases("valid");
  test("holds the client configs and runc spec's output", () => {
    for (const must of ["podman-4.3.json", "containerd-1.6.json", "runc-spec.json", "runc-spec-rootless.json", "everything.json"]) {
      expect(names).toContain(must);
    }
  });
  for (const name of names) {
    test(name, () => {
      const config = parseConfigJson(readFileSync(join(FIXTURES, "valid", name), "utf8"));
      expect(typeof config.ociVersion).toBe("string");
    });
  }
});

describe("spec-fixtures/invalid", () => {
  const names = cases("invalid");
  test("has at least 25 cases, each with its expected message", () => {
    expect(names.length).toBeGreaterThanOrEqual(25);
    const expected = readdirSync(join(FIXTURES, "invalid")).filter((f) => f.endsWith(".expected"));
    expect(expected.map((f) => f.replace(/\.expected$/, ".json")).sort()).toEqual(names);
  });
  for (const name of names) {
    test(name, () => {
      const text = readFileSync(join(FIXTURES, "invalid", name), "utf8");
      const expected = readFileSync(join(FIXTURES, "invalid", name.replace(/\.json$/, ".expected")), "utf8").trim();
      const err = failureOf(text);
      expect(err.code).toBe("invalid-config");
      expect(err.message).toBe(expected);
      expect(err.message).not.toContain("\n");
    });
  }
});
