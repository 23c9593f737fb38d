// `events [--stats] [--interval D] <id>`: JSON lines {type, id, data} until the container's cgroup is gone.
import type { VerbInvocation } from "./parse.ts";
import { eventLine, events } from "../lib/events.ts";
import { writeStdout } from "./output.ts";

export default async function eventsVerb({ global, flags, args: [id] }: VerbInvocation): Promise<void> {
  for await (const e of events({ root: global.root, id: id!, intervalMs: flags.interval as number, stats: flags.stats as boolean })) {
    writeStdout(eventLine(e));
  }
}
