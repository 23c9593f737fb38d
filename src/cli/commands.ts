// --help text only: a citty command tree generated from the flag tables in verbs.ts. citty does
// not parse argv here (it cannot express runc's grammar: see parse.ts); it renders usage. Loaded
// only for help, so the create/start path never imports citty.
import { isatty } from "node:tty";
import { defineCommand, renderUsage, type ArgDef, type ArgsDef, type CommandDef } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { writeStdout } from "./output.ts";
import { GLOBAL_FLAGS, VERBS, type FlagSpec, type VerbSpec } from "./verbs.ts";

const TYPE_HINT: Record<FlagSpec["type"], string | undefined> = { bool: undefined, string: "value", int: "N", duration: "duration", strings: "value", int64s: "N" };

function flagArg(f: FlagSpec): ArgDef {
  const repeat = f.type === "strings" || f.type === "int64s" ? " (repeatable)" : "";
  const def = f.default !== undefined && f.default !== "" && f.type !== "bool" ? ` (default: ${f.default})` : "";
  const description = `${f.description}${repeat}${def}`;
  const alias = f.short ? [f.short] : undefined;
  if (f.type === "bool") return { type: "boolean", description, alias };
  return { type: "string", description, alias, valueHint: TYPE_HINT[f.type] };
}

function argsOf(flags: readonly FlagSpec[], positionals: string): ArgsDef {
  const args: ArgsDef = {};
  for (const word of positionals.match(/<[^>]+>|\[[^\]]+\]/g) ?? []) {
    const name = word.slice(1, -1).replace(/ /g, "-");
    args[name] = { type: "positional", description: "", required: word.startsWith("<") };
  }
  for (const f of flags) if (!f.hidden && f.name !== "help") args[f.name] = flagArg(f);
  return args;
}

function verbCommand(v: VerbSpec): CommandDef {
  return defineCommand({ meta: { name: v.name, description: v.description }, args: argsOf(v.flags, v.argsUsage) });
}

export function rootCommand(): CommandDef {
  const subCommands: Record<string, CommandDef> = {};
  for (const v of VERBS.values()) subCommands[v.name] = verbCommand(v);
  return defineCommand({
    meta: { name: "bunrunc", version: pkg.version, description: "OCI container runtime (runc-compatible), TypeScript on Bun with a Zig core" },
    args: argsOf(GLOBAL_FLAGS, ""),
    subCommands,
  });
}

/** Usage of one verb, or of bunrunc with its verbs and global flags. */
export async function helpText(verb?: string): Promise<string> {
  const root = rootCommand();
  if (!verb) return renderUsage(root);
  const spec = VERBS.get(verb);
  if (!spec) throw new Error(`No help topic for '${verb}'`);
  return renderUsage(verbCommand(spec), root);
}

export async function printHelp(verb?: string): Promise<void> {
  const text = await helpText(verb);
  // citty colours unless NO_COLOR/CI; a pipe or file gets plain text.
  writeStdout(`${isatty(1) ? text : text.replace(/\x1b\[[0-9;]*m/g, "")}\n`);
}
