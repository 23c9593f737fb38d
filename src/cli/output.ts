// Writing command output the way runc's Go code does. stdout goes through writeSync(1): touching
// process.stdout costs Bun several milliseconds at startup.
import { writeSync } from "node:fs";

export function writeStdout(text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length; ) off += writeSync(1, bytes, off);
}

export { goJson } from "../base/go-json.ts";
