// bunrunc's entry: parse argv, set up the log, load ONE verb module, run it, exit. Kept tiny and
// lazy on purpose: every import here is paid by every `create`/`start` (docs: FINDINGS.md).
// stdout is written only by verbs (and help/version); errors go to the log and stderr.
import { phase } from "./timing.ts";
import { basename } from "node:path";
import { parseArgv, parseGlobals, type Invocation, type VerbMain } from "./cli/parse.ts";
import { strerror } from "./lib/errno.ts";
import { BunruncError } from "./lib/errors.ts";
import { configureLog, log, logFailure } from "./log.ts";

const VERB_MODULES: Record<string, () => Promise<{ default: VerbMain }>> = {
  spec: () => import("./cli/spec.ts"),
  create: () => import("./cli/create.ts"),
  start: () => import("./cli/start.ts"),
  run: () => import("./cli/run.ts"),
  exec: () => import("./cli/exec.ts"),
  state: () => import("./cli/state.ts"),
  list: () => import("./cli/list.ts"),
  kill: () => import("./cli/kill.ts"),
  delete: () => import("./cli/delete.ts"),
  pause: () => import("./cli/pause.ts"),
  resume: () => import("./cli/resume.ts"),
  ps: () => import("./cli/ps.ts"),
  events: () => import("./cli/events.ts"),
  update: () => import("./cli/update.ts"),
  features: () => import("./cli/features.ts"),
  checkpoint: () => import("./cli/checkpoint.ts"),
  restore: () => import("./cli/restore.ts"),
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
function invokedAs(): string {
  const script = process.argv[1] ?? "";
  if (script.endsWith(".ts") || script.endsWith(".js")) return "bunrunc";
  return basename(process.argv0 || "bunrunc");
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

async function main(argv: string[]): Promise<number> {
  phase("main");
  let global: ReturnType<typeof parseGlobals>["global"] | undefined;
  try {
    // Globals first, so even a bad verb line is logged where --log asks.
    global = parseGlobals(argv).global;
  } catch {
    // parseArgv below reports the same error.
  }
  if (global) {
    try {
      configureLog({ file: global.log, format: global.logFormat, debug: global.debug });
    } catch (e) {
      const errno = (e as NodeJS.ErrnoException).errno;
      logFailure(`--log: open ${global.log}: ${errno ? strerror(errno) : messageOf(e)}`);
      return 1;
    }
    if (global.debug) log.debug(`bunrunc ${argv.join(" ")}`);
  }
  let inv: Invocation | undefined;
  try {
    inv = parseArgv(argv, { argv0: invokedAs() });
    if (inv.kind === "version") {
      (await import("./cli/version.ts")).default();
      return 0;
    }
    if (inv.kind === "help") {
      await (await import("./cli/commands.ts")).printHelp(inv.verb);
      return 0;
    }
    const verb = await VERB_MODULES[inv.verb]!();
    phase("verb-loaded");
    return (await verb.default(inv)) ?? 0;
  } catch (e) {
    logFailure(messageOf(e));
    return exitCodeFor(e, inv?.kind === "verb" ? inv.verb : undefined);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    phase("exit");
    process.exit(code);
  },
  (e) => {
    logFailure(messageOf(e));
    process.exit(1);
  },
);
