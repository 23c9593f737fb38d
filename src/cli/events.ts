// `events [--stats] [--interval D] <id>`: JSON lines {type, id, data} until the container's cgroup is gone.
import type { VerbInvocation } from "./parse.ts";
import { eventLine, events } from "../lib/events.ts";
import { writeStdout } from "./output.ts";

export default async function eventsVerb({ global, flags, args: [id] }: VerbInvocation<"events">): Promise<void> {
  for await (const e of events({ root: global.root, id: id!, intervalMs: flags.interval, stats: flags.stats })) {
    writeStdout(eventLine(e));
  }
}
