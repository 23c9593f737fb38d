// Writing command output the way runc's Go code does. stdout goes through writeSync(1): touching
// process.stdout costs Bun several milliseconds at startup.
import { writeSync } from "node:fs";

export function writeStdout(text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length; ) off += writeSync(1, bytes, off);
}

/** encoding/json's output: like JSON.stringify, plus Go's escaping of <, >, & and U+2028/9. */
export function goJson(value: unknown, indent?: string): string {
  return JSON.stringify(value, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
