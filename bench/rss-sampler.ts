// A separate process that sums the memory of a runtime's processes every few ms and keeps the
// peak, so sampling never runs on the timing process. Usage: bun rss-sampler.ts <comm-regex>.
// Prints "ready", samples until a line arrives on stdin, then prints {"rssKiB","pssKiB","samples"}.
// RSS counts a shared page once per process that maps it (what `time -v` reports, the bench's
// figure); PSS splits shared pages between their users (the memory actually taken).
import { readdirSync, readFileSync } from "node:fs";

const comm = new RegExp(process.argv[2] ?? "^$");
const PAGE_KIB = 4;
const SAMPLE_GAP_MS = 2;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined; // the process exited between readdir and read
  }
}

/** RSS field of /proc/<pid>/stat (24th; comm may hold spaces, so count after the last ')'). */
function rssKiB(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[21]) * PAGE_KIB;
}

function pssKiB(pid: string): number {
  const m = /\nPss:\s+(\d+) kB/.exec(read(`/proc/${pid}/smaps_rollup`) ?? "");
  return m ? Number(m[1]) : 0;
}

function sample(): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of readdirSync("/proc")) {
    if (pid.charCodeAt(0) > 57 || String(process.pid) === pid) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (!comm.test(name)) continue;
    rss += rssKiB(stat);
    pss += pssKiB(pid);
  }
  return { rss, pss };
}

let stop = false;
process.stdin.once("data", () => (stop = true));
process.stdout.write("ready\n");
let peakRss = 0;
let peakPss = 0;
let samples = 0;
while (!stop) {
  const s = sample();
  peakRss = Math.max(peakRss, s.rss);
  peakPss = Math.max(peakPss, s.pss);
  samples++;
  await Bun.sleep(SAMPLE_GAP_MS);
}
process.stdout.write(`${JSON.stringify({ rssKiB: peakRss, pssKiB: peakPss, samples })}\n`);
process.exit(0);
