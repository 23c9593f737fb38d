// Go's `flag` package rules, which runc's CLI (urfave/cli v1) inherits, applied to one flag table:
// `-x` == `--x`; `--x=v` and `--x v`; a bool never takes the next word (`--x=false` works);
// parsing stops at the first non-flag word or after `--`. Errors use Go's exact wording.
import { BunruncError } from "../base/errors.ts";
import type { FlagSpec } from "./verbs.ts";
import { clip, goQuote } from "../base/quote.ts";

export type FlagValue = string | number | boolean | string[] | number[];
export type FlagValues = Record<string, FlagValue>;

export function usageError(message: string): BunruncError {
  return new BunruncError("usage", message);
}


const TRUE_WORDS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** strconv.ParseBool; null when not a boolean word. */
export function parseGoBool(s: string): boolean | null {
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  return null;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DIGITS: Record<number, RegExp> = { 2: /^[01]$/, 8: /^[0-7]$/, 10: /^[0-9]$/, 16: /^[0-9a-fA-F]$/ };

/** strconv.ParseInt(s, 0, 64): sign, 0x/0o/0b/0 prefixes, `_` between digits. */
export function parseGoInt(s: string): { value: bigint } | { error: "syntax" | "range" } {
  let t = s;
  let negative = false;
  if (t.startsWith("+") || t.startsWith("-")) {
    negative = t.startsWith("-");
    t = t.slice(1);
  }
  let base = 10;
  let prefixed = false;
  const prefix = /^0([xXoObB])/.exec(t);
  if (prefix) {
    base = { x: 16, o: 8, b: 2 }[prefix[1]!.toLowerCase() as "x" | "o" | "b"];
    t = t.slice(2);
    prefixed = true;
  } else if (t.length > 1 && t.startsWith("0")) {
    base = 8;
    t = t.slice(1);
    prefixed = true;
  }
  // Underscores only separate digits (or follow a base prefix), as Go's underscoreOK requires.
  const parts = t.split("_");
  const wellFormed = parts.every((p, i) => p.length > 0 || (i === 0 && prefixed && parts.length > 1));
  if (!t || !wellFormed) return { error: "syntax" };
  let value = 0n;
  for (const d of parts.join("")) {
    if (!DIGITS[base]!.test(d)) return { error: "syntax" };
    value = value * BigInt(base) + BigInt(parseInt(d, 16));
  }
  if (negative) value = -value;
  if (value < INT64_MIN || value > INT64_MAX) return { error: "range" };
  return { value };
}

const DURATION_UNITS_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration, in milliseconds; null when malformed. */
export function parseGoDuration(s: string): number | null {
  let t = s;
  let sign = 1;
  if (t.startsWith("+") || t.startsWith("-")) {
    sign = t.startsWith("-") ? -1 : 1;
    t = t.slice(1);
  }
  if (t === "0") return 0;
  if (!t) return null;
  let ns = 0;
  const re = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;
  while (t) {
    const m = re.exec(t);
    if (!m || (!m[1] && !m[2])) return null;
    const unit = DURATION_UNITS_NS[m[3]!];
    if (unit === undefined) return null;
    ns += Number(`${m[1] || "0"}.${m[2] || "0"}`) * unit;
    t = t.slice(m[0].length);
  }
  return (sign * ns) / 1e6;
}

function setValue(flag: FlagSpec, typed: string, raw: string, values: FlagValues): void {
  const invalid = (why: string) => usageError(`invalid value ${goQuote(clip(raw))} for flag -${clip(typed)}: ${why}`);
  switch (flag.type) {
    case "string":
      values[flag.name] = raw;
      return;
    case "strings":
      values[flag.name] = [...((values[flag.name] as string[] | undefined) ?? []), raw];
      return;
    case "int": {
      const r = parseGoInt(raw);
      if ("error" in r) throw invalid(r.error === "range" ? "value out of range" : "parse error");
      values[flag.name] = Number(r.value);
      return;
    }
    case "int64s": {
      // urfave's Int64Slice passes strconv's own error through.
      const r = parseGoInt(raw);
      if ("error" in r) throw invalid(`strconv.ParseInt: parsing ${goQuote(raw)}: ${r.error === "range" ? "value out of range" : "invalid syntax"}`);
      values[flag.name] = [...((values[flag.name] as number[] | undefined) ?? []), Number(r.value)];
      return;
    }
    case "duration": {
      const ms = parseGoDuration(raw);
      if (ms === null) throw invalid("parse error");
      values[flag.name] = ms;
      return;
    }
    case "bool":
      throw new Error("unreachable: bools are set in parseFlags");
  }
}

/** Each flag's default (repeatable flags start empty, bools false). */
export function defaults(flags: readonly FlagSpec[]): FlagValues {
  const values: FlagValues = {};
  for (const f of flags) {
    if (f.type === "bool") values[f.name] = false;
    else if (f.type === "strings" || f.type === "int64s") values[f.name] = [];
    else if (f.type === "duration") values[f.name] = parseGoDuration(String(f.default ?? "0"))!;
    else if (f.default !== undefined) values[f.name] = f.default;
  }
  return values;
}

/**
 * Reads flags from the front of `args` into `values` the way Go's FlagSet.Parse does. Returns the
 * words left at the first non-flag (`-` alone is one), and whether a `--` ended the flags (it is
 * consumed).
 */
export function parseFlags(flags: readonly FlagSpec[], args: readonly string[], values: FlagValues): { rest: string[]; terminated: boolean } {
  const byName = new Map<string, FlagSpec>();
  for (const f of flags) {
    byName.set(f.name, f);
    if (f.short) byName.set(f.short, f);
  }
  let i = 0;
  while (i < args.length) {
    const word = args[i]!;
    if (word.length < 2 || !word.startsWith("-")) break;
    const dashes = word[1] === "-" ? 2 : 1;
    if (dashes === 2 && word.length === 2) return { rest: args.slice(i + 1), terminated: true };
    let name = word.slice(dashes);
    if (name.length === 0 || name.startsWith("-") || name.startsWith("=")) throw usageError(`bad flag syntax: ${clip(word)}`);
    i++;
    let raw: string | undefined;
    const eq = name.indexOf("=", 1);
    if (eq > 0) {
      raw = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const flag = byName.get(name);
    if (!flag) throw usageError(`flag provided but not defined: -${clip(name)}`);
    if (flag.type === "bool") {
      const b = raw === undefined ? true : parseGoBool(raw);
      if (b === null) throw usageError(`invalid boolean value ${goQuote(clip(raw!))} for -${name}: parse error`);
      values[flag.name] = b;
      continue;
    }
    if (raw === undefined) {
      if (i >= args.length) throw usageError(`flag needs an argument: -${name}`);
      raw = args[i++]!;
    }
    setValue(flag, name, raw, values);
  }
  return { rest: args.slice(i), terminated: false };
}
