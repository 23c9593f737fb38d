// Lossless JSON for runtime-spec documents.
//
// Number policy: an integer literal (no fraction, no exponent) outside Number's safe range
// (|n| > 2^53-1) becomes a bigint; every other number stays a number. So -1 memory limits stay
// numbers, and 2^64-1 in a seccomp argument arrives as 18446744073709551615n with all digits.
// Consumers read int64/uint64 fields as `number | bigint` (see Int in src/config/kinds.ts).
//
// Nulls are kept as they are; the schemas (src/config/kinds.ts) treat a null member as absent.
//
// Speed: a text with no run of 16+ digits cannot hold an unsafe integer (2^53 has 16 digits), so
// it goes to the native JSON.parse (~25 µs for podman's 10 KB config). Only texts with long digit
// runs, and texts JSON.parse rejects (to locate the error), take the hand-written parser below.

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

export interface ParseOptions {
  /** Names the document in errors: `<source>: invalid JSON at line L column C: <why>`. */
  source: string;
}

export class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
  constructor(
    readonly line: number,
    readonly column: number,
    readonly why: string,
    source: string,
  ) {
    super(`${source}: invalid JSON at line ${line} column ${column}: ${why}`);
  }
}

// The hand parser recurses, so it bounds nesting; no runtime-spec document comes near this.
const MAX_DEPTH = 512;
const MAY_HOLD_UNSAFE_INTEGER = /\d{16}/;

export function parseJson(text: string, opts: ParseOptions): JsonValue {
  if (!MAY_HOLD_UNSAFE_INTEGER.test(text)) {
    let value: JsonValue;
    try {
      value = JSON.parse(text) as JsonValue;
    } catch {
      return new Parser(text, opts).parseDocument(); // throws JsonSyntaxError with a position
    }
    return value;
  }
  return new Parser(text, opts).parseDocument();
}

/** JSON text with bigints written as plain integer literals (the inverse of parseJson). */
export function stringifyJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? rawJson(v.toString()) : v), space);
}

const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

const enum Ch {
  Tab = 9,
  LF = 10,
  CR = 13,
  Space = 32,
  Quote = 34,
  Plus = 43,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Zero = 48,
  Nine = 57,
  Colon = 58,
  LBracket = 91,
  Backslash = 92,
  RBracket = 93,
  LowerE = 101,
  UpperE = 69,
  LBrace = 123,
  RBrace = 125,
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly opts: ParseOptions,
  ) {}

  parseDocument(): JsonValue {
    this.skipSpace();
    const value = this.parseValue();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describeHere()} after the JSON value`);
    return value;
  }

  private parseValue(): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    if (c === Ch.LBrace) return this.parseObject();
    if (c === Ch.LBracket) return this.parseArray();
    if (c === Ch.Quote) return this.parseString();
    if (c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) return this.parseNumber();
    if (this.text.startsWith("true", this.pos)) return this.literal(4, true);
    if (this.text.startsWith("false", this.pos)) return this.literal(5, false);
    if (this.text.startsWith("null", this.pos)) return this.literal(4, null);
    return this.fail(`unexpected ${this.describeHere()}, expected a value`);
  }

  private literal<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private parseObject(): JsonValue {
    this.enter();
    this.pos++; // {
    const out: { [key: string]: JsonValue } = {};
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === Ch.RBrace) return this.leave(out);
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== Ch.Quote) this.fail(`unexpected ${this.describeHere()}, expected a string key`);
      const key = this.parseString();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== Ch.Colon) this.fail(`unexpected ${this.describeHere()}, expected ':' after a key`);
      this.pos++;
      this.skipSpace();
      const value = this.parseValue();
      // defineProperty: a "__proto__" key must become a plain member, as with JSON.parse.
      if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === Ch.Comma) this.pos++;
      else if (c === Ch.RBrace) return this.leave(out);
      else this.fail(`unexpected ${this.describeHere()}, expected ',' or '}'`);
    }
  }

  private parseArray(): JsonValue {
    this.enter();
    this.pos++; // [
    const out: JsonValue[] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === Ch.RBracket) return this.leave(out);
    for (;;) {
      this.skipSpace();
      out.push(this.parseValue());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === Ch.Comma) this.pos++;
      else if (c === Ch.RBracket) return this.leave(out);
      else this.fail(`unexpected ${this.describeHere()}, expected ',' or ']'`);
    }
  }

  private parseString(): string {
    const start = ++this.pos; // opening quote
    let out = "";
    let chunk = start;
    for (;;) {
      if (this.pos >= this.text.length) {
        this.pos = start - 1;
        this.fail("unterminated string");
      }
      const c = this.text.charCodeAt(this.pos);
      if (c === Ch.Quote) break;
      if (c < 0x20) this.fail("control character in a string (must be escaped)");
      if (c !== Ch.Backslash) {
        this.pos++;
        continue;
      }
      out += this.text.slice(chunk, this.pos);
      out += this.parseEscape();
      chunk = this.pos;
    }
    out += this.text.slice(chunk, this.pos);
    this.pos++; // closing quote
    return out;
  }

  private parseEscape(): string {
    const e = this.text[this.pos + 1];
    if (e === "u") {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid \\u escape (needs 4 hex digits)");
      this.pos += 6;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const decoded = e === undefined ? undefined : ESCAPES[e];
    if (decoded === undefined) this.fail(`invalid escape '\\${e ?? ""}' in a string`);
    this.pos += 2;
    return decoded!;
  }

  private parseNumber(): number | bigint {
    const start = this.pos;
    if (this.text.charCodeAt(this.pos) === Ch.Minus) this.pos++;
    const intStart = this.pos;
    if (this.text.charCodeAt(this.pos) === Ch.Zero) this.pos++;
    else if (!this.skipDigits()) this.fail("invalid number: expected a digit");
    if (this.text.charCodeAt(this.pos) >= Ch.Zero && this.text.charCodeAt(this.pos) <= Ch.Nine) {
      this.pos = intStart;
      this.fail("invalid number: leading zero");
    }
    let integer = true;
    if (this.text.charCodeAt(this.pos) === Ch.Dot) {
      integer = false;
      this.pos++;
      if (!this.skipDigits()) this.fail("invalid number: expected a digit after '.'");
    }
    const e = this.text.charCodeAt(this.pos);
    if (e === Ch.LowerE || e === Ch.UpperE) {
      integer = false;
      this.pos++;
      const sign = this.text.charCodeAt(this.pos);
      if (sign === Ch.Plus || sign === Ch.Minus) this.pos++;
      if (!this.skipDigits()) this.fail("invalid number: expected a digit in the exponent");
    }
    const literal = this.text.slice(start, this.pos);
    const n = Number(literal);
    return integer && !Number.isSafeInteger(n) ? BigInt(literal) : n;
  }

  private skipDigits(): boolean {
    const start = this.pos;
    for (let c = this.text.charCodeAt(this.pos); c >= Ch.Zero && c <= Ch.Nine; c = this.text.charCodeAt(++this.pos));
    return this.pos > start;
  }

  private skipSpace(): void {
    for (let c = this.text.charCodeAt(this.pos); c === Ch.Space || c === Ch.LF || c === Ch.CR || c === Ch.Tab; c = this.text.charCodeAt(++this.pos));
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  }

  private leave<T>(value: T): T {
    this.depth--;
    this.pos++; // closing bracket
    return value;
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return "end of input";
    const c = this.text.codePointAt(this.pos)!;
    return c < 0x20 || c === 0x7f ? `character U+${c.toString(16).padStart(4, "0").toUpperCase()}` : `character ${JSON.stringify(String.fromCodePoint(c))}`;
  }

  private fail(why: string): never {
    let line = 1;
    let lineStart = 0;
    for (let i = this.text.indexOf("\n"); i !== -1 && i < this.pos; i = this.text.indexOf("\n", i + 1)) {
      line++;
      lineStart = i + 1;
    }
    throw new JsonSyntaxError(line, this.pos - lineStart + 1, why, this.opts.source);
  }
}
