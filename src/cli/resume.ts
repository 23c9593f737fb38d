// `resume <id>`: thaw a paused container.
import type { VerbInvocation } from "./parse.ts";
import { resume } from "../lib/resume.ts";

export default async function resumeVerb({ global, args: [id] }: VerbInvocation<"resume">): Promise<void> {
  await resume({ root: global.root, id: id! });
}
