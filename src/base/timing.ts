// Opt-in phase timer for finding where a verb's milliseconds go: with BUNRUNC_TIMING=1 each
// phase() prints `phase <name> <ms since the previous mark> <ms since process start>` to stderr.
// Off (the default) it is one boolean test per mark, and it imports nothing, so loading it costs
// the hot path nothing. main.ts imports it first so the first mark is the first line of JS.
const enabled = process.env.BUNRUNC_TIMING === "1";
let last = 0;

export function phase(name: string): void {
  if (!enabled) return;
  const now = performance.now();
  // Synchronous, unbuffered: the process may exit right after the mark.
  const fs = require("node:fs") as typeof import("node:fs");
  fs.writeSync(2, `phase ${name} ${(now - last).toFixed(2)} ${now.toFixed(2)}\n`);
  last = now;
}

// The first mark: Bun's own start, before any other module of ours has been evaluated.
phase("js-start");
