// The benchmark one-liner a user writes: how long does `bunrunc run` of a busybox `true` take,
// end to end, over a few runs?
//
//   bun examples/bench.ts [--root DIR] [--runs N]       (as root; BUNRUNC=path/to/bunrunc)
import { $ } from "bun";
import { BUNRUNC, workspace } from "./busybox.ts";

const ws = workspace();
const at = process.argv.indexOf("--runs");
const runs = at > 0 ? Number(process.argv[at + 1]) : 10;
const bundle = ws.bundle("bench", ["true"]);
try {
  // The one-liner:
  const t0 = performance.now(); for (let i = 0; i < runs; i++) await $`${BUNRUNC} --root ${ws.root} run --bundle ${bundle} bench-${process.pid}-${i}`;
  const ms = (performance.now() - t0) / runs;
  console.log(`${runs} runs, ${ms.toFixed(1)} ms per run (create + start + wait + delete)`);
} finally {
  ws.done();
}
