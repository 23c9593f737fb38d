// The building blocks of the runtime-spec schemas: sized integers that may be bigint (see
// json.ts), optional members where null means absent, enums and paths, each failing with a
// message in our one-line style (`expected integer, got "64m"`). Messages for plain valibot
// schemas (string, boolean, array, object) come from describeIssue in issues.ts.
import * as v from "valibot";
import { show } from "./issues.ts";

/** An integer member of a runtime-spec document: int64/uint64 fields may be bigint (json.ts). */
export type Int = number | bigint;

/** An integer in [min, max]: a safe-integer number, or a bigint (json.ts makes big literals bigint). */
export function integer(label: string, min: bigint, max: bigint) {
  const lo = Number(min);
  const hi = Number(max);
  return v.custom<Int>(
    (x) => (typeof x === "number" ? Number.isSafeInteger(x) && x >= lo && x <= hi : typeof x === "bigint" && x >= min && x <= max),
    (issue) => {
      const x = issue.input;
      const isInt = (typeof x === "number" && Number.isSafeInteger(x)) || typeof x === "bigint";
      return isInt ? `expected ${label} (${min} to ${max}), got ${show(x)}` : `expected integer, got ${show(x)}`;
    },
  );
}

const TWO = 2n;
export const int64 = integer("int64", -(TWO ** 63n), TWO ** 63n - 1n);
export const uint64 = integer("uint64", 0n, TWO ** 64n - 1n);
export const int32 = integer("int32", -(TWO ** 31n), TWO ** 31n - 1n);
export const uint32 = integer("uint32", 0n, TWO ** 32n - 1n);
export const uint16 = integer("uint16", 0n, TWO ** 16n - 1n);
/** Go's `int` and `uint` on 64-bit Linux, as runc decodes them. */
export const goInt = int64;
export const goUint = uint64;

/** An optional member; null counts as absent, as Go's encoding/json treats it for runc. */
export function opt<S extends v.GenericSchema>(schema: S) {
  return v.optional(v.pipe(v.nullable(schema), v.transform(nullToUndefined)));
}
function nullToUndefined<T>(x: T): Exclude<T, null> | undefined {
  return x === null ? undefined : (x as Exclude<T, null>);
}

export function oneOf<const T extends readonly string[]>(options: T) {
  const list = options.map((o) => JSON.stringify(o)).join(", ");
  return v.picklist(options, (issue) => `expected one of ${list}, got ${show(issue.input)}`);
}

export const str = v.string();
export const bool = v.boolean();
export const strings = v.array(str);

// valibot's object and record schemas take arrays too; Go (and so runc) does not.
const notArray = v.custom<Record<string, unknown>>(
  (x) => typeof x === "object" && x !== null && !Array.isArray(x),
  (issue) => `expected object, got ${show(issue.input)}`,
);

/**
 * A schema built on first use: a document without this member never pays for building it. Every
 * create validates its config in a fresh process, and building all of runtime-spec's schemas up
 * front cost ~0.9 ms of it; most configs use a few subtrees. Parsing goes through it unchanged.
 */
export function later<S extends v.GenericSchema>(build: () => S) {
  let built: S | undefined;
  return v.lazy(() => (built ??= build()));
}

/** A JSON object with these members; unknown members pass through (the spec says ignore them). */
export function obj<E extends v.ObjectEntries>(entries: E) {
  return v.pipe(notArray, v.looseObject(entries));
}

/** A JSON object used as a map (annotations, sysctl, ...). */
export function map<K extends v.GenericSchema<string, string | number | symbol>, S extends v.GenericSchema>(key: K, value: S) {
  return v.pipe(notArray, v.record(key, value));
}

export const stringMap = map(str, str);

export function list<S extends v.GenericSchema>(item: S) {
  return v.array(item);
}

/** A comma-separated list of numbers and ranges, as in "0-3,7" (empty allowed). */
export const CPU_LIST = /^(?:\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)?$/;
