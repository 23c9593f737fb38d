// Reading and validating runtime-spec documents. Every failure is one BunruncError("invalid-config")
// line: `<source>: <json path>: <cause>`, e.g.
// `config.json: linux.resources.memory.limit: expected integer, got "64m"`.
import { join } from "node:path";
import * as v from "valibot";
import { BunruncError } from "../base/errors.ts";
import { clip } from "../base/quote.ts";
import { ConfigProblem, describeIssue, formatProblem, issuePath } from "./issues.ts";
import { JsonSyntaxError, parseJson } from "./json.ts";
import { checkLimits, DOCUMENT_BYTES_MAX, DocumentTooLarge, readDocument } from "./limits.ts";
import { Config, Process, Resources, State } from "./schema.ts";
import { checkConfig, checkProcess, checkProcessArgs, checkResources, checkRunnable } from "./semantics.ts";

export type { Config, Process, Resources, State };

/** Reads `<bundle>/config.json` (at most DOCUMENT_BYTES_MAX) and returns it validated for `create`/`run`. */
export function loadBundleConfig(bundle: string): Config {
  let text: string;
  try {
    text = readDocument(join(bundle, "config.json"));
  } catch (e) {
    if (e instanceof DocumentTooLarge) throw new BunruncError("invalid-config", `config.json: ${e.message}`);
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file or directory" : err.code === "EISDIR" ? "is a directory" : err.message;
    throw new BunruncError("invalid-config", `config.json: cannot read ${clip(join(bundle, "config.json"))}: ${why}`);
  }
  return parseConfigJson(text);
}

/** Real configs are 10-100 KB; past this, a document's copies (text, parse) are worth collecting at once. */
const LARGE_DOCUMENT_CHARS = 1024 * 1024;

/**
 * A full collection now: the resident server would otherwise carry a megabytes-large document's
 * garbage (its bytes, text and parsed copies) until allocation pressure triggers one, so a few such
 * calls would add up to hundreds of MB of RSS. Only for large documents; ~10 ms.
 */
function collectNow(): void {
  Bun.gc(true);
}

/** A config.json text, validated: the spec's rules plus what `create` needs (root, process.args). */
export function parseConfigJson(text: string, source = "config.json"): Config {
  return validated(text, source, Config, (c) => {
    checkConfig(c);
    checkRunnable(c);
  });
}

/** exec's `--process` file: one runtime-spec `process` object. */
export function parseProcessJson(text: string, source: string): Process {
  return validated(text, source, Process, (p) => {
    checkProcess(p, []);
    checkProcessArgs(p, []);
  });
}

/** update's `--resources` document: one LinuxResources object. */
export function parseResourcesJson(text: string, source: string): Resources {
  return validated(text, source, Resources, (r) => checkResources(r, []));
}

/** A `state` output (for clients of the library and tests). */
export function parseStateJson(text: string, source: string): State {
  return validated(text, source, State, () => {});
}

function validated<S extends v.GenericSchema>(text: string, source: string, schema: S, check: (value: v.InferOutput<S>) => void): v.InferOutput<S> {
  // A text handed in by a library caller (the files are bounded as they are read): at least one byte per character.
  if (text.length > DOCUMENT_BYTES_MAX) throw new BunruncError("invalid-config", `${source}: ${new DocumentTooLarge(null).message}`);
  try {
    return validatedText(text, source, schema, check);
  } finally {
    if (text.length > LARGE_DOCUMENT_CHARS) collectNow();
  }
}

function validatedText<S extends v.GenericSchema>(text: string, source: string, schema: S, check: (value: v.InferOutput<S>) => void): v.InferOutput<S> {
  let value: unknown;
  try {
    value = parseJson(text, { source });
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new BunruncError("invalid-config", e.message);
    throw e;
  }
  try {
    checkLimits(value);
  } catch (e) {
    if (e instanceof ConfigProblem) throw new BunruncError("invalid-config", formatProblem(source, e.path, e.reason));
    throw e;
  }
  const result = v.safeParse(schema, value, { abortEarly: true, message: describeIssue });
  if (!result.success) {
    const issue = result.issues[0];
    throw new BunruncError("invalid-config", formatProblem(source, issuePath(issue), issue.message));
  }
  try {
    check(result.output);
  } catch (e) {
    if (e instanceof ConfigProblem) throw new BunruncError("invalid-config", formatProblem(source, e.path, e.reason));
    throw e;
  }
  return result.output;
}
