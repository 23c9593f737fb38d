// `delete <id>`: removes a stopped (or, with --force, any) container, under its lock.
import type { VerbInvocation } from "./parse.ts";
import { del } from "../lib/delete.ts";
import { log } from "../log.ts";

export default async function deleteVerb({ global, flags, args: [id] }: VerbInvocation<"delete">): Promise<void> {
  await del({ root: global.root, id: id!, force: flags.force, warn: log.warn });
}
