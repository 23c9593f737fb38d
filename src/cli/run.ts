// `run <id>`: flags -> lib run; exits with the container process's status.
// No container lock here: run holds the container for its whole life, and kill/delete from
// other processes must still get through while it waits.
import type { VerbInvocation } from "./parse.ts";
import { run } from "../lib/run.ts";
import { createOptions } from "./create.ts";
import { warnUnsupportedGlobals } from "./globals.ts";

export default function runVerb(inv: VerbInvocation): Promise<number> {
  warnUnsupportedGlobals(inv.global);
  const { flags } = inv;
  return run({
    ...createOptions(inv),
    detach: flags.detach as boolean,
    keep: flags.keep as boolean,
    noSubreaper: flags["no-subreaper"] as boolean,
  });
}
