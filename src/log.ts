// The log contract clients rely on (runc's, i.e. logrus's):
// - `--log FILE --log-format json` appends one JSON object per line, {"level","msg","time"},
//   time in RFC 3339, level one of error, warning, info, debug. containerd's shim reports the msg
//   of the last "error" line; podman json.Unmarshals the file. One malformed line loses the error.
// - text format: `time="..." level=error msg="..."` lines (logrus's TextFormatter).
// - without --log the lines go to stderr; with --log a failure is ALSO printed to stderr as the
//   bare message (runc does, and podman falls back to stderr).
// stdout is never written here: it carries only command output (state, list, ps, features).
//
// No logging library: all a logger would add here is the level filter (a comparison below); the
// contract above is the formatter and the writer, and they are ours. (consola did that filter
// and nothing else, loaded lazily on the first message; it is gone.)
import { closeSync, openSync, writeSync } from "node:fs";
import { goQuote } from "./base/quote.ts";
import { rfc3339Nano } from "./base/rfc3339.ts";

export type Level = "error" | "warning" | "info" | "debug";

export interface LogConfig {
  /** Log file; "" means stderr. */
  file: string;
  format: "text" | "json";
  debug: boolean;
}

const STDERR = 2;
let config: LogConfig = { file: "", format: "text", debug: false };
let fileFd: number | undefined;

/**
 * Applies the global flags. The log file is opened now (O_APPEND, 0644, as runc does) so a bad
 * --log path fails before the verb runs.
 */
export function configureLog(next: LogConfig): void {
  if (fileFd !== undefined) closeSync(fileFd);
  fileFd = undefined;
  config = { ...next };
  if (config.file) fileFd = openSync(config.file, "a", 0o644);
}

/** Where log lines go now (for tests and for deciding whether a failure also goes to stderr). */
export function logTarget(): "stderr" | "file" {
  return fileFd === undefined ? "stderr" : "file";
}

/** One line in the configured format, without the newline. */
export function formatLine(level: Level, msg: string, time: string, format: LogConfig["format"]): string {
  if (format === "json") return JSON.stringify({ level, msg, time });
  return `time=${quoteIfNeeded(time)} level=${level} msg=${quoteIfNeeded(msg)}`;
}

/** logrus quotes (Go %q) any value with a byte outside [A-Za-z0-9-._/@^+]. */
function quoteIfNeeded(s: string): string {
  return /^[A-Za-z0-9\-._/@^+]+$/.test(s) ? s : goQuote(s);
}

function writeLine(fd: number, line: string): void {
  // One write per line: concurrent writers appending to one file never interleave within a line.
  const bytes = Buffer.from(`${line}\n`);
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
}

/** Levels by severity, as logrus orders them; debug lines only with --debug. */
const SEVERITY: Readonly<Record<Level, number>> = { error: 0, warning: 1, info: 2, debug: 3 };

function emit(level: Level, msg: string): void {
  if (SEVERITY[level] > SEVERITY[config.debug ? "debug" : "info"]) return;
  writeLine(fileFd ?? STDERR, formatLine(level, msg.replace(/\n+$/, ""), rfc3339Nano(), config.format));
}

export const log = {
  error: (msg: string) => emit("error", msg),
  warn: (msg: string) => emit("warning", msg),
  info: (msg: string) => emit("info", msg),
  debug: (msg: string) => emit("debug", msg),
};

/** The verb failed: an `error` entry in the log, and the bare message on stderr when the log is a file. */
export function logFailure(message: string): void {
  let logged = true;
  try {
    log.error(message);
  } catch {
    logged = false; // the log itself failed (disk full, closed fd): stderr still gets the message
  }
  if (fileFd !== undefined || !logged) writeLine(STDERR, message);
}
