// Fuzzed configs through the served path with two callers at once: every failure is one
// non-empty line, exactly what the direct path prints for the same config (issue 12: under
// load, served failures once came back empty or doubled). Seeded, so a failure is replayable:
// BUNRUNC_FUZZ_SEED=<seed> BUNRUNC_FUZZ_N=<count> bun test test/server/fuzz.test.ts
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRun, direct, FRONT, scrubTime, SERVED, serverUp, SKIP } from "./helpers.ts";
import { rng } from "../helpers/rng.ts";

const N = Number(process.env.BUNRUNC_FUZZ_N) || 2000;
const SEED = Number(process.env.BUNRUNC_FUZZ_SEED) || Date.now() % 1_000_000;
const CALLERS = 2;

const bundles: TestBundle[] = [];
afterAll(() => {
  for (const b of bundles.splice(0)) b.cleanup();
});

const VALUES = (r: () => number): unknown[] => [
  null,
  true,
  -1,
  0,
  2 ** 53 + 1,
  1.5,
  "",
  "x".repeat(Math.floor(r() * 300)),
  "../../etc",
  "relative/path",
  [],
  [1, "a"],
  {},
  { type: "bogus" },
  "\u0000\u00ff\ud800",
];

/** Every object/array slot in the document: [container, key]. */
function slots(doc: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): typeof out {
  if (Array.isArray(doc)) doc.forEach((v, i) => (out.push([doc, i]), slots(v, out)));
  else if (doc && typeof doc === "object") for (const [k, v] of Object.entries(doc)) out.push([doc as Record<string, unknown>, k]), slots(v, out);
  return out;
}

/** The default config with 1-3 random mutations, or (1 in 20) its text cut short. */
function mutated(r: () => number): string {
  const spec = defaultSpec(["true"]) as unknown as Record<string, unknown>;
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const all = slots(spec);
    const [holder, key] = all[Math.floor(r() * all.length)]!;
    const choice = r();
    if (choice < 0.3) {
      if (Array.isArray(holder)) holder.splice(key as number, 1);
      else delete holder[key as string];
    } else {
      const values = VALUES(r);
      (holder as Record<string | number, unknown>)[key] = values[Math.floor(r() * values.length)];
    }
  }
  const text = JSON.stringify(spec);
  return r() < 0.05 ? text.slice(0, Math.floor(r() * text.length)) : text;
}

interface Outcome {
  code: number;
  stderr: string;
}

async function call(b: TestBundle, args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  // A created container's process keeps its stdio: stderr goes to a file, not a pipe.
  const errPath = join(b.dir, `stderr-${uniqueId("e")}`);
  const err = openSync(errPath, "w");
  try {
    const p = Bun.spawn([FRONT, ...args], { cwd: b.dir, env: { ...process.env, ...env }, stdin: "ignore", stdout: "ignore", stderr: err });
    const code = await p.exited;
    return { code, stderr: readFileSync(errPath, "utf8") };
  } finally {
    closeSync(err);
  }
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");
/** Error entries with a message (warnings the config earned come before them, as direct). */
const errorLines = (ls: string[]) => ls.filter((l) => /level=error msg="?[^"\s]/.test(l)).length + ls.filter((l) => !l.includes("level=")).length;

describe.skipIf(!canRun)(`fuzzed configs, served against direct${SKIP}`, () => {
  test(
    `${N} configs, ${CALLERS} callers at once: each failure one non-empty line, the direct path's own (seed ${SEED})`,
    async () => {
      const r = rng(SEED);
      const configs = Array.from({ length: N }, () => mutated(r));
      const workers = Array.from({ length: CALLERS }, () => {
        const b = makeBundle(defaultSpec(["true"]));
        bundles.push(b);
        return b;
      });
      serverUp(workers[0]!.root);
      const mismatches: string[] = [];
      let served = 0;
      let failures = 0;
      let next = 0;
      await Promise.all(
        workers.map(async (b) => {
          for (let i = next++; i < N; i = next++) {
            writeFileSync(join(b.bundle, "config.json"), configs[i]!);
            const id = `fz${i}`;
            const args = ["--root", b.root, "create", "-b", "bundle", id];
            const s = await call(b, ["--debug", ...args]);
            if (s.code === 0) await call(b, ["--root", b.root, "delete", "-f", id]);
            const d = await call(b, args, direct);
            if (d.code === 0) await call(b, ["--root", b.root, "delete", "-f", id]);
            const servedLines = lines(s.stderr).filter((l) => !l.includes("level=debug"));
            if (lines(s.stderr)[0]?.includes(SERVED)) served++;
            if (s.code !== 0) failures++;
            const bad =
              s.code !== d.code ||
              scrubTime(servedLines.join("\n")) !== scrubTime(lines(d.stderr).join("\n")) ||
              (s.code !== 0 && errorLines(servedLines) !== 1);
            if (bad) mismatches.push(`#${i}: served ${s.code} ${JSON.stringify(servedLines).slice(0, 600)} direct ${d.code} ${JSON.stringify(lines(d.stderr)).slice(0, 600)}`);
          }
        }),
      );
      expect(mismatches.slice(0, 5)).toEqual([]);
      // The fuzz went through the server and mostly failed (what it is there to compare).
      expect(served).toBeGreaterThan(N / 2);
      expect(failures).toBeGreaterThan(N / 2);
    },
    15 * 60_000,
  );
});
