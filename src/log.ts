// The log contract clients rely on (runc's, i.e. logrus's):
// - `--log FILE --log-format json` appends one JSON object per line, {"level","msg","time"},
//   time in RFC 3339, level one of error, warning, info, debug. containerd's shim reports the msg
//   of the last "error" line; podman json.Unmarshals the file. One malformed line loses the error.
// - text format: `time="..." level=error msg="..."` lines (logrus's TextFormatter).
// - without --log the lines go to stderr; with --log a failure is ALSO printed to stderr as the
//   bare message (runc does, and podman falls back to stderr).
// stdout is never written here: it carries only command output (state, list, ps, features).
//
// consola is the logger (the project's fixed package set names it): its level filter and its
// reporter hook, with the reporter below writing the runc contract. It is loaded on the first
// message, so a verb that logs nothing (the create/start hot path) never pays for it.
import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import type { ConsolaInstance, LogObject } from "consola/core";
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
let consola: ConsolaInstance | undefined;

let regularFilesOnly = false;

/**
 * The resident server's rule: a --log that is not a regular file when opened fails the call
 * instead of blocking the server (a FIFO swapped in after admission checked the path).
 */
export function requireRegularLogFiles(): void {
  regularFilesOnly = true;
}

/**
 * Applies the global flags. The log file is opened now (O_APPEND, 0644, as runc does) so a bad
 * --log path fails before the verb runs.
 */
export function configureLog(next: LogConfig): void {
  if (fileFd !== undefined) closeSync(fileFd);
  fileFd = undefined;
  config = { ...next };
  if (consola) consola.level = consolaLevel();
  if (config.file) fileFd = openLog(config.file);
}

function openLog(file: string): number {
  if (!regularFilesOnly) return openSync(file, "a", 0o644);
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | constants.O_NOFOLLOW, 0o644);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    config = { ...config, file: "" };
    throw new Error(`--log ${file}: not a regular file`);
  }
  return fd;
}

/** The log in effect, open file included: what the resident server keeps while a call is parked. */
export interface LogHandle {
  config: LogConfig;
  fd: number | undefined;
}

/** Takes the log away (back to stderr, defaults) without closing its file: attachLog puts it back. */
export function detachLog(): LogHandle {
  const handle = { config: { ...config }, fd: fileFd };
  fileFd = undefined;
  config = { file: "", format: "text", debug: false };
  if (consola) consola.level = consolaLevel();
  return handle;
}

/** Puts a detached log back, the same open file: nothing is reopened by its path. */
export function attachLog(handle: LogHandle): void {
  if (fileFd !== undefined) closeSync(fileFd);
  config = { ...handle.config };
  fileFd = handle.fd;
  if (consola) consola.level = consolaLevel();
}

/** Where log lines go now (for tests and for deciding whether a failure also goes to stderr). */
export function logTarget(): "stderr" | "file" {
  return fileFd === undefined ? "stderr" : "file";
}

function consolaLevel(): number {
  return config.debug ? 4 : 3; // consola: 3 info, 4 debug
}

/** consola's type names -> logrus's level names. */
function levelOf(obj: LogObject): Level {
  if (obj.level <= 0) return "error";
  if (obj.level === 1) return "warning";
  if (obj.level >= 4) return "debug";
  return "info";
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

const reporter = {
  log(obj: LogObject): void {
    const msg = obj.args.map((a) => (a instanceof Error ? a.message : typeof a === "string" ? a : JSON.stringify(a))).join(" ");
    writeLine(fileFd ?? STDERR, formatLine(levelOf(obj), msg.replace(/\n+$/, ""), rfc3339Nano(obj.date), config.format));
  },
};

function logger(): ConsolaInstance {
  if (!consola) {
    // Loaded lazily (see the header); require keeps this synchronous for the warn callbacks.
    const { createConsola } = require("consola/core") as typeof import("consola/core");
    consola = createConsola({ level: consolaLevel(), reporters: [reporter], throttle: 0 });
  }
  return consola;
}

export const log = {
  error: (msg: string) => logger().error(msg),
  warn: (msg: string) => logger().warn(msg),
  info: (msg: string) => logger().info(msg),
  debug: (msg: string) => logger().debug(msg),
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
