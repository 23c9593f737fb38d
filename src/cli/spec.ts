// `spec`: writes a starter config.json into --bundle (default: the current directory).
import { writeSpec } from "../lib/spec.ts";
import type { VerbInvocation } from "./parse.ts";

export default function specVerb({ flags }: VerbInvocation<"spec">): void {
  writeSpec({ bundle: flags.bundle, rootless: flags.rootless });
}
