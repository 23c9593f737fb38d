// `start <id>`: releases the created container's process.
import type { VerbInvocation } from "./parse.ts";
import { start } from "../lib/start.ts";
import { log } from "../log.ts";

export default async function startVerb({ global, args: [id] }: VerbInvocation<"start">): Promise<void> {
  await start({ root: global.root, id: id!, warn: log.warn });
}
