// The lossless JSON parser: int64/uint64 keep every digit, both paths (native fast path and the
// hand parser) agree, and syntax errors name line and column.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { JsonSyntaxError, parseJson, stringifyJson } from "../../src/config/json.ts";

const parse = (text: string) => parseJson(text, { source: "t.json" });
const U64_MAX = "18446744073709551615";
const I64_MIN = "-9223372036854775808";
const I64_MAX = "9223372036854775807";

describe("integers", () => {
  test("2^64-1, int64 extremes and -1 round-trip digit for digit", () => {
    const text = `{"value":${U64_MAX},"min":${I64_MIN},"max":${I64_MAX},"limit":-1,"args":[${U64_MAX},0]}`;
    const v = parse(text) as Record<string, unknown>;
    expect(v.value).toBe(18446744073709551615n);
    expect(v.min).toBe(-9223372036854775808n);
    expect(v.max).toBe(9223372036854775807n);
    expect(v.limit).toBe(-1);
    expect(stringifyJson(v)).toBe(text);
  });

  test("safe integers stay numbers; the first unsafe one becomes a bigint", () => {
    const v = parse("[9007199254740991,-9007199254740991,9007199254740992,-9007199254740992,1234567890123456]") as unknown[];
    expect(v).toEqual([9007199254740991, -9007199254740991, 9007199254740992n, -9007199254740992n, 1234567890123456]);
  });

  test("fractions and exponents stay numbers even when long", () => {
    const v = parse("[18446744073709551615.0,1e20,1.5,-0.25E-3]") as unknown[];
    expect(v).toEqual([18446744073709551615.0, 1e20, 1.5, -0.25e-3]);
    expect(typeof v[0]).toBe("number");
  });

  test("long digit runs inside strings do not change values (hand-parser path)", () => {
    const text = readFileSync(resolve(import.meta.dir, "../../spec-fixtures/valid/podman-4.3.json"), "utf8");
    const withDigits = text.replace('"ociVersion"', '"x-id": "12345678901234567890", "ociVersion"');
    expect(withDigits).not.toBe(text);
    const native = JSON.parse(withDigits);
    expect(parse(withDigits)).toEqual(native);
  });
});

describe("both paths agree", () => {
  const docs = [
    '{"a":"\\u00e9\\n\\t\\"\\\\\\/\\b\\f\\r","b":[true,false,null],"c":{},"d":[],"e":-0.5e+2}',
    '{"emoji":"\\ud83d\\ude00 ok","raw":"ünïcödé"}',
    ' \r\n\t{ "spaced" : [ 1 , 2 ] } \n',
    '{"dup":1,"dup":2}',
  ];
  for (const doc of docs) {
    test(doc.slice(0, 30), () => {
      // Adding a 16-digit string forces the hand parser; the native result is the reference.
      const forced = doc.replace("{", '{"pad":"0000000000000000",');
      expect(parse(doc)).toEqual(JSON.parse(doc));
      expect(parse(forced)).toEqual(JSON.parse(forced));
    });
  }

  test('"__proto__" is a plain member, not a prototype', () => {
    const v = parse('{"pad":"0000000000000000","__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["pad", "__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((v as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe("syntax errors", () => {
  const bad: [string, number, number, string][] = [
    ["", 1, 1, "unexpected end of input, expected a value"],
    ['{"a":1,}', 1, 8, 'unexpected character "}", expected a string key'],
    ['{\n  "a": 1,\n  "b": x\n}', 3, 8, 'unexpected character "x", expected a value'],
    ['{"a" 1}', 1, 6, "unexpected character \"1\", expected ':' after a key"],
    ["[1 2]", 1, 4, "unexpected character \"2\", expected ',' or ']'"],
    ['{"a":01}', 1, 6, "invalid number: leading zero"],
    ['{"a":-}', 1, 7, "invalid number: expected a digit"],
    ['{"a":"\\q"}', 1, 7, "invalid escape '\\q' in a string"],
    ['{"a":"\\u12"}', 1, 7, "invalid \\u escape (needs 4 hex digits)"],
    ['"abc', 1, 1, "unterminated string"],
    ["{}x", 1, 3, 'unexpected character "x" after the JSON value'],
    ["\u00a0{}", 1, 1, 'unexpected character "\u00a0", expected a value'],
    [`{"big":${U64_MAX},}`, 1, 29, 'unexpected character "}", expected a string key'],
  ];
  for (const [text, line, column, why] of bad) {
    test(JSON.stringify(text), () => {
      let err: unknown;
      try {
        parse(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JsonSyntaxError);
      expect((err as Error).message).toBe(`t.json: invalid JSON at line ${line} column ${column}: ${why}`);
    });
  }

  test("the hand parser limits nesting (it recurses; native JSON.parse does not need to)", () => {
    const nested = (depth: number) => `[${U64_MAX},` + "[".repeat(depth - 1) + "]".repeat(depth);
    expect(() => parse(nested(513))).toThrow("nesting deeper than 512 levels");
    expect(parse(nested(512))).toBeArray();
  });
});
