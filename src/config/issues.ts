// Turning a validation failure into our one line: `<source>: <json path>: <cause>`, e.g.
// `config.json: linux.resources.memory.limit: expected integer, got "64m"`.
import type * as v from "valibot";
import { quote } from "../base/quote.ts";

/** A failed check, with the JSON path of the offending value (keys and array indexes). */
export class ConfigProblem extends Error {
  override readonly name = "ConfigProblem";
  constructor(
    readonly path: readonly (string | number)[],
    readonly reason: string,
  ) {
    super(`${formatPath(path)}: ${reason}`);
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `linux.resources.memory.limit`, `mounts[2].destination`, `linux.sysctl["net.ipv4.ip_forward"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (IDENTIFIER.test(key)) out += out ? `.${key}` : key;
    else out += `[${quote(key)}]`;
  }
  return out;
}

/** `<source>: <path>: <cause>`, or `<source>: <cause>` for the document itself. */
export function formatProblem(source: string, path: readonly (string | number)[], cause: string): string {
  return path.length ? `${source}: ${formatPath(path)}: ${cause}` : `${source}: ${cause}`;
}

const SHOW_MAX = 60;

/** A value as it appears in an error: strings quoted (and cut), containers by kind. */
export function show(x: unknown): string {
  if (x === undefined) return "nothing";
  if (typeof x === "string") {
    // Only the part that can show is stringified: x may be megabytes.
    const quoted = JSON.stringify(x.length > SHOW_MAX ? x.slice(0, SHOW_MAX) : x);
    return quoted.length > SHOW_MAX ? `${quoted.slice(0, SHOW_MAX - 4)}..."` : quoted;
  }
  if (Array.isArray(x)) return "an array";
  if (x !== null && typeof x === "object") return "an object";
  return String(x);
}

const EXPECTED_BY_TYPE: Record<string, string> = {
  string: "string",
  boolean: "boolean",
  array: "array",
  loose_object: "object",
  object: "object",
  record: "object",
  number: "number",
};

/** Valibot's global message hook: the cause for issues whose schema did not bring its own. */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const last = issue.path?.[issue.path.length - 1];
  if (issue.kind === "schema" && issue.input === undefined && last && "origin" in last && last.origin === "key") {
    return "required field is missing";
  }
  const expected = EXPECTED_BY_TYPE[issue.type];
  if (expected) return `expected ${expected}, got ${show(issue.input)}`;
  return `invalid value ${show(issue.input)} (${issue.expected ?? issue.type})`;
}

/** The JSON path of a valibot issue, as keys and indexes. */
export function issuePath(issue: v.BaseIssue<unknown>): (string | number)[] {
  return (issue.path ?? []).map((item) => (item as { key: string | number }).key);
}
