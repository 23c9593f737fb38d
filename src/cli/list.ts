// `list`: runc's table (Go tabwriter), `--format json` (null when empty, as Go encodes a nil
// slice), or `-q` ids only.
import type { VerbInvocation } from "./parse.ts";
import { BunruncError } from "../base/errors.ts";
import { listTable } from "../lib/format.ts";
import { list } from "../lib/query.ts";
import { goJson, writeStdout } from "./output.ts";
import { log } from "../log.ts";

export default function listVerb({ global, flags }: VerbInvocation<"list">): void {
  const items = list({ root: global.root, warn: log.warn });
  if (flags.quiet) return writeStdout(items.map((s) => `${s.id}\n`).join(""));
  switch (flags.format) {
    case "table":
      return writeStdout(listTable(items));
    case "json":
      return writeStdout(`${items.length ? goJson(items) : "null"}\n`);
    default:
      throw new BunruncError("usage", "invalid format option");
  }
}
