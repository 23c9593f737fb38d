// `state <id>`: runc's state JSON (json.MarshalIndent, two spaces, no trailing newline).
import type { VerbInvocation } from "./parse.ts";
import { state } from "../lib/query.ts";
import { goJson, writeStdout } from "./output.ts";

export default function stateVerb({ global, args: [id] }: VerbInvocation<"state">): void {
  writeStdout(goJson(state({ root: global.root, id: id! }), "  "));
}
