// `pause <id>`: freeze the container's processes.
import type { VerbInvocation } from "./parse.ts";
import { pause } from "../lib/pause.ts";

export default async function pauseVerb({ global, args: [id] }: VerbInvocation<"pause">): Promise<void> {
  await pause({ root: global.root, id: id! });
}
