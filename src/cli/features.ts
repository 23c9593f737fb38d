// `features`: the runtime-spec features document on stdout.
import { featuresJson } from "../lib/features.ts";
import { writeStdout } from "./output.ts";

export default function features(): void {
  writeStdout(featuresJson());
}
