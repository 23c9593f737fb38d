// `pause <id>`: freeze the container's processes.
import type { VerbInvocation } from "./parse.ts";
import { pause } from "../lib/pause.ts";
import { withContainerLock } from "../state/store.ts";

export default async function pauseVerb({ global, args: [id] }: VerbInvocation): Promise<void> {
  await withContainerLock(global.root, id!, () => pause({ root: global.root, id: id! }));
}
