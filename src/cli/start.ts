// `start <id>`: releases the created container's process, under the container's lock.
import type { VerbInvocation } from "./parse.ts";
import { start } from "../lib/start.ts";
import { log } from "../log.ts";
import { withContainerLock } from "../state/store.ts";

export default async function startVerb({ global, args: [id] }: VerbInvocation): Promise<void> {
  await withContainerLock(global.root, id!, () => start({ root: global.root, id: id!, warn: log.warn }));
}
