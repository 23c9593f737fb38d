// encoding/json's output, which runc's `state` and `list` print: JSON.stringify plus Go's
// escaping of <, >, & and U+2028/9. Here, below lib/, because create precompiles `state`'s text
// into the fast-verbs record (src/lib/fast-verbs.ts) as well as the CLI printing it.

/** encoding/json's output: like JSON.stringify, plus Go's escaping of <, >, & and U+2028/9. */
export function goJson(value: unknown, indent?: string): string {
  return JSON.stringify(value, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
