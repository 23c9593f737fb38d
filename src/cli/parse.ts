// argv -> what to do, with runc 1.1's grammar: global flags before the verb, then the verb's
// flags, which may be interleaved with its positionals (urfave/cli moves them to the front),
// except for exec and ps, whose flags end at the container id. Wrong arity and bad ids fail with
// runc's texts.
import { resolve } from "node:path";
import { BunruncError } from "../base/errors.ts";
import { defaultRoot, validateId } from "../state/store.ts";
import { defaults, parseFlags, usageError, type FlagValues } from "./goflag.ts";
import { GLOBAL_FLAGS, VERBS, type GlobalFlags, type VerbFlags, type VerbName, type VerbSpec } from "./verbs.ts";
import { clip, quote } from "../base/quote.ts";
import type { Handback, Spawner } from "../lib/spawner.ts";

export interface GlobalOptions {
  debug: boolean;
  /** Log file; "" = stderr. */
  log: string;
  logFormat: "text" | "json";
  /** Absolute state root. */
  root: string;
  criu: string;
  systemdCgroup: boolean;
  rootless: "true" | "false" | "auto";
}

/** A verb call; `flags` typed from the verb's flag table (src/cli/verbs.ts). */
export interface VerbInvocation<V extends VerbName = VerbName> {
  kind: "verb";
  verb: V;
  spec: VerbSpec;
  global: GlobalOptions;
  flags: VerbFlags<V>;
  args: string[];
}

export type Invocation =
  | VerbInvocation
  /** `--help`, `help [verb]`, `<verb> --help`, or no verb at all. */
  | { kind: "help"; verb?: string; global: GlobalOptions }
  | { kind: "version"; global: GlobalOptions };

/** What src/cli/<verb>.ts default-exports: returns the exit code (undefined = 0). */
/** A verb: its exit code, or (run, exec for a spawner whose caller waits itself) a Handback. */
export type VerbMain<V extends VerbName = VerbName> = (inv: VerbInvocation<V>, spawner: Spawner) => number | void | Handback | Promise<number | void | Handback>;

export interface ParseOptions {
  /** What runc prints as os.Args[0] in arity errors; the name we were invoked by. */
  argv0?: string;
}

/** urfave/cli exits 3 for an unknown command. */
export const UNKNOWN_COMMAND_EXIT = 3;
const ROOTLESS_WORDS = new Set(["true", "false", "auto"]);
const HELP_VERBS = new Set(["help", "h"]);

/** Parses the global flags (they end at the verb); exported so errors can still be logged where --log says. */
export function parseGlobals(argv: readonly string[]): { global: GlobalOptions; values: GlobalFlags; rest: string[] } {
  const parsed = defaults(GLOBAL_FLAGS);
  const { rest } = parseFlags(GLOBAL_FLAGS, bareRootless(argv), parsed);
  // parseFlags filled in every flag of the table, each with its type's value (goflag.ts).
  const values = parsed as GlobalFlags;
  const logFormat = values["log-format"];
  if (logFormat !== "text" && logFormat !== "json") throw usageError(`invalid log-format: ${clip(logFormat)}`);
  const rootless = values.rootless;
  if (!ROOTLESS_WORDS.has(rootless)) throw usageError(`invalid value ${quote(rootless)} for flag -rootless: expected true, false or auto`);
  const global: GlobalOptions = {
    debug: values.debug,
    log: values.log,
    logFormat,
    root: resolve(values.root || defaultRoot()),
    criu: values.criu,
    systemdCgroup: values["systemd-cgroup"],
    rootless: rootless as GlobalOptions["rootless"],
  };
  return { global, values, rest };
}

/**
 * runc's --rootless is a string flag; a bare `--rootless` (before a verb or another flag) means
 * true here instead of swallowing the next word.
 */
function bareRootless(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === "--") return [...out, ...argv.slice(i)];
    if (!w.startsWith("-")) return [...out, ...argv.slice(i)];
    const isRootless = w === "--rootless" || w === "-rootless";
    out.push(isRootless && !ROOTLESS_WORDS.has(argv[i + 1] ?? "") ? `${w}=true` : w);
    // A value flag's next word is its value, not a flag: copy it through untouched.
    const f = GLOBAL_FLAGS.find((g) => `-${g.name}` === w || `--${g.name}` === w);
    if (f && f.type !== "bool" && !isRootless && i + 1 < argv.length) out.push(argv[++i]!);
    else if (isRootless && ROOTLESS_WORDS.has(argv[i + 1] ?? "")) out.push(argv[++i]!);
  }
  return out;
}

export function parseArgv(argv: readonly string[], opts: ParseOptions = {}): Invocation {
  const { global, values, rest } = parseGlobals(argv);
  if (values.help) return { kind: "help", global };
  if (values.version) return { kind: "version", global };
  if (rest.length === 0) return { kind: "help", global };
  const [verb, ...verbArgs] = rest as [string, ...string[]];
  if (HELP_VERBS.has(verb)) {
    const topic = verbArgs[0];
    if (topic !== undefined && !VERBS.has(topic)) throw unknownCommand(topic);
    return { kind: "help", verb: topic, global };
  }
  const spec = VERBS.get(verb);
  if (!spec) throw unknownCommand(verb);
  const { flags, args } = parseVerbArgs(spec, verbArgs);
  if (flags.help) return { kind: "help", verb, global };
  checkArity(spec, args.length, opts.argv0 ?? "bunrunc");
  if (spec.takesId) validateId(args[0]!);
  // parseVerbArgs filled in every flag of this verb's table, each with its type's value (goflag.ts).
  return { kind: "verb", verb: verb as VerbName, spec, global, flags: flags as VerbFlags<VerbName>, args };
}

function unknownCommand(name: string): BunruncError {
  return new BunruncError("usage", `No help topic for '${name}'`, UNKNOWN_COMMAND_EXIT);
}

/** The verb's flags and positionals; `--` is kept as a positional once a positional came before it (as runc does). */
export function parseVerbArgs(spec: VerbSpec, words: readonly string[]): { flags: FlagValues; args: string[] } {
  const flags = defaults(spec.flags);
  const args: string[] = [];
  let rest: readonly string[] = words;
  for (;;) {
    const r = parseFlags(spec.flags, rest, flags);
    if (r.terminated) {
      if (args.length > 0) args.push("--");
      args.push(...r.rest);
      break;
    }
    if (r.rest.length === 0) break;
    if (spec.flagsEndAtFirstArg) {
      args.push(...r.rest);
      break;
    }
    args.push(r.rest[0]!);
    rest = r.rest.slice(1);
  }
  return { flags, args };
}

function checkArity(spec: VerbSpec, n: number, argv0: string): void {
  const fail = (how: string, count: number) => usageError(`${argv0}: "${spec.name}" requires ${how} ${count} argument(s)`);
  if ("exact" in spec.args) {
    if (n !== spec.args.exact) throw fail("exactly", spec.args.exact);
    return;
  }
  if (spec.args.min !== undefined && n < spec.args.min) throw fail("a minimum of", spec.args.min);
  if (spec.args.max !== undefined && n > spec.args.max) throw fail("a maximum of", spec.args.max);
}
