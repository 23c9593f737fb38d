// One bunrunc call, argv to exit code, without exiting: src/main.ts runs it once per process,
// the resident server (src/server/serve.ts) once per front's call. Loads ONE verb module.
import { phase } from "../base/timing.ts";
import { basename } from "node:path";
import { parseArgv, parseGlobals, type Invocation, type VerbMain } from "./parse.ts";
import type { VerbName } from "./verbs.ts";
import { strerror } from "../base/errno.ts";
import { BunruncError } from "../base/errors.ts";
import { configureLog, log, logFailure } from "../log.ts";
import { thisProcess, type Handback, type Spawner } from "../lib/spawner.ts";
import { LockBusy } from "../state/store.ts";
import { oneLine } from "../base/quote.ts";

/** Each verb's module, typed with its own flags (VerbMain<V>). */
const VERB_MODULES: { [V in VerbName]: () => Promise<{ default: VerbMain<V> }> } = {
  spec: () => import("./spec.ts"),
  create: () => import("./create.ts"),
  start: () => import("./start.ts"),
  run: () => import("./run.ts"),
  exec: () => import("./exec.ts"),
  state: () => import("./state.ts"),
  list: () => import("./list.ts"),
  kill: () => import("./kill.ts"),
  delete: () => import("./delete.ts"),
  pause: () => import("./pause.ts"),
  resume: () => import("./resume.ts"),
  ps: () => import("./ps.ts"),
  events: () => import("./events.ts"),
  update: () => import("./update.ts"),
  features: () => import("./features.ts"),
  checkpoint: () => import("./checkpoint.ts"),
  restore: () => import("./restore.ts"),
};

/** exec's own failures exit 255 so callers can tell them from the process's exit status (runc). */
const EXEC_RUNTIME_FAILURE = 255;

function exitCodeFor(e: unknown, verb: string | undefined): number {
  if (e instanceof BunruncError) {
    if (verb === "exec" && e.code !== "usage" && e.code !== "not-implemented") return EXEC_RUNTIME_FAILURE;
    return e.exitCode;
  }
  return verb === "exec" ? EXEC_RUNTIME_FAILURE : 1;
}

/** The name arity errors start with (runc prints its os.Args[0]): "bunrunc" unless installed under another name. */
export function invokedAs(): string {
  const script = process.argv[1] ?? "";
  if (script.endsWith(".ts") || script.endsWith(".js")) return "bunrunc";
  return basename(process.argv0 || "bunrunc");
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** The global flags' log settings for this call; false when --log cannot be opened (already reported). */
function setUpLog(argv: string[]): { debug: boolean } | false {
  let global: ReturnType<typeof parseGlobals>["global"] | undefined;
  try {
    // Globals first, so even a bad verb line is logged where --log asks.
    global = parseGlobals(argv).global;
  } catch {
    return { debug: false }; // parseArgv reports the same error
  }
  try {
    configureLog({ file: global.log, format: global.logFormat, debug: global.debug });
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    logFailure(`--log: open ${global.log}: ${errno ? strerror(errno) : messageOf(e)}`);
    return false;
  }
  return { debug: global.debug };
}

/**
 * Runs one call for `spawner` (this process unless the resident server passes a front's); argv0
 * is the name errors start with (runc prints its os.Args[0]). A Handback only for a spawner whose
 * caller waits itself.
 */
export async function dispatch(argv: string[], argv0: string = invokedAs(), spawner: Spawner = thisProcess): Promise<number | Handback> {
  phase("main");
  const logged = setUpLog(argv);
  if (!logged) return 1;
  if (logged.debug) log.debug(`bunrunc ${argv.join(" ")}${spawner.servedBy ? ` (${spawner.servedBy})` : ""}`);
  let inv: Invocation | undefined;
  try {
    inv = parseArgv(argv, { argv0 });
    if (inv.kind === "version") {
      (await import("./version.ts")).default();
      return 0;
    }
    if (inv.kind === "help") {
      await (await import("./commands.ts")).printHelp(inv.verb);
      return 0;
    }
    // inv.verb names the module and types inv.flags alike; TypeScript cannot see the two agree.
    const verb = (await VERB_MODULES[inv.verb]()) as { default: VerbMain };
    phase("verb-loaded");
    return (await verb.default(inv, spawner)) ?? 0;
  } catch (e) {
    // Only in the resident server: the call goes back to its front untouched (src/server/serve.ts).
    if (e instanceof LockBusy) throw e;
    logFailure(oneLine(messageOf(e)));
    return exitCodeFor(e, inv?.kind === "verb" ? inv.verb : undefined);
  }
}

/** A handed-back run's second half (its `finish`, with the process's exit code), logged like the call. */
export async function finishHandback(argv: string[], finish: (code: number) => Promise<number>, code: number, logOpen = false): Promise<number> {
  // logOpen: the resident server kept the call's log open from its start (never reopened by path).
  if (!logOpen && !setUpLog(argv)) return 1;
  try {
    return await finish(code);
  } catch (e) {
    logFailure(oneLine(messageOf(e)));
    return 1;
  }
}
