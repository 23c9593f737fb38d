// `ps [--format table|json] <id> [ps args...]`: json prints only the pid array (containerd parses
// stdout+stderr as JSON); table filters the host's `ps` output to the container's processes.
import type { VerbInvocation } from "./parse.ts";
import { BunruncError } from "../base/errors.ts";
import { ps, psTable } from "../lib/ps.ts";
import { writeStdout } from "./output.ts";

export default function psVerb({ global, flags, args: [id, ...psArgs] }: VerbInvocation<"ps">): void {
  const format = flags.format || "table";
  if (format !== "table" && format !== "json") throw new BunruncError("usage", "invalid format option");
  const pids = ps({ root: global.root, id: id! });
  writeStdout(format === "json" ? `${JSON.stringify(pids)}\n` : psTable(pids, psArgs));
}
