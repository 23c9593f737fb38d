// `kill <id> [signal]`: signal by number or name (9, KILL, SIGKILL), default SIGTERM; --all.
import type { VerbInvocation } from "./parse.ts";
import { kill } from "../lib/kill.ts";

export default async function killVerb({ global, flags, args: [id, signal] }: VerbInvocation<"kill">): Promise<void> {
  await kill({ root: global.root, id: id!, signal, all: flags.all });
}
