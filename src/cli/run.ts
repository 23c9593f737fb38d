// `run <id>`: flags -> lib run; exits with the container process's status.
// lib run holds the container's lock for create and start, not for the wait: kill/delete from
// other processes must get through while it waits.
import type { VerbInvocation } from "./parse.ts";
import { runFor } from "../lib/run.ts";
import type { Handback, Spawner } from "../lib/spawner.ts";
import { createOptions } from "./create.ts";

export default function runVerb(inv: VerbInvocation<"run">, spawner: Spawner): Promise<number | Handback> {
  const { flags } = inv;
  return runFor({
    ...createOptions(inv, spawner),
    detach: flags.detach,
    keep: flags.keep,
    noSubreaper: flags["no-subreaper"],
  });
}
