// A separate process that sums the memory of a runtime's processes every few ms and keeps the
// peak, so sampling never runs on the timing process.
// Usage: bun rss-sampler.ts <comm-regex> <bench pid> <container id marker> [<server exe>].
// Only this bench's processes count (the host is shared: other checkouts' servers and containers
// match the same names): descendants of the bench, processes in a cgroup named after one of its
// containers (the inits, orphaned once create exits), and the resident server of `server exe`.
// Prints "ready", samples until a line arrives on stdin, then prints {"rssKiB","pssKiB","samples",
// "serverRssKiB","serverPssKiB"} (the server's own peaks, also in the sums).
// RSS counts a shared page once per process that maps it (what `time -v` reports, the bench's
// figure); PSS splits shared pages between their users (the memory actually taken).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const comm = new RegExp(process.argv[2] ?? "^$");
const benchPid = process.argv[3] ?? "";
const idMarker = process.argv[4] ?? "";
const serverExe = process.argv[5];
if (!benchPid || !idMarker) throw new Error("usage: rss-sampler.ts <comm-regex> <bench pid> <container id marker> [<server exe>]");
const PAGE_KIB = 4;
// Sampling is not free: on 2 CPUs, a scan every 2 ms with a smaps_rollup page-table walk per
// process took enough CPU (and the mmap lock of the server, walked while it serves) that fronts
// waited past their admission bound and ran directly, inflating the very figure measured. So: a
// scan every 5 ms (the processes summed live for hundreds of ms), and each process's PSS walked
// at most every 50 ms (RSS, from /proc/PID/stat, needs no walk and is read every scan).
const SAMPLE_GAP_MS = 5;
const PSS_REFRESH_MS = 50;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined; // the process exited between readdir and read
  }
}

/** Fields of /proc/<pid>/stat from the 3rd on (comm may hold spaces, so split after the last ')'). */
const statFields = (stat: string) => stat.slice(stat.lastIndexOf(")") + 2).split(" ");

/** RSS field of /proc/<pid>/stat (24th). */
const rssKiB = (fields: string[]) => Number(fields[21]) * PAGE_KIB;

/** ours() per process (pid and start time: a pid may be reused), so each is looked at once. */
const known = new Map<string, boolean>();

function oursCached(pid: string, fields: string[], ppid: Map<string, string>): boolean {
  const key = `${pid}@${fields[19]}`;
  let v = known.get(key);
  if (v === undefined) known.set(key, (v = ours(pid, ppid)));
  return v;
}

/** Whether pid is the bench's: below it in the process tree, in one of its containers' cgroups, or its server. */
function ours(pid: string, ppid: Map<string, string>): boolean {
  for (let p: string | undefined = pid, hops = 0; p && p !== "0" && hops < 64; p = ppid.get(p), hops++) if (p === benchPid) return true;
  if (read(`/proc/${pid}/cgroup`)?.includes(`/${idMarker}`)) return true;
  if (!serverExe) return false;
  try {
    return readlinkSync(`/proc/${pid}/exe`) === serverExe;
  } catch {
    return false;
  }
}

/** Whether pid (at its start time) runs `server exe`, looked at once per process. */
const serverSeen = new Map<string, boolean>();

function isServer(pid: string, fields: string[]): boolean {
  if (!serverExe) return false;
  const key = `${pid}@${fields[19]}`;
  let v = serverSeen.get(key);
  if (v === undefined) {
    try {
      v = readlinkSync(`/proc/${pid}/exe`) === serverExe;
    } catch {
      v = false;
    }
    serverSeen.set(key, v);
  }
  return v;
}

function pssKiB(pid: string): number {
  const m = /\nPss:\s+(\d+) kB/.exec(read(`/proc/${pid}/smaps_rollup`) ?? "");
  return m ? Number(m[1]) : 0;
}

/** PSS per process (pid@starttime), walked again once PSS_REFRESH_MS old. */
const pssSeen = new Map<string, { kib: number; at: number }>();

function pssCached(pid: string, fields: string[]): number {
  const key = `${pid}@${fields[19]}`;
  const now = performance.now();
  const seen = pssSeen.get(key);
  if (seen && now - seen.at < PSS_REFRESH_MS) return seen.kib;
  const kib = pssKiB(pid);
  pssSeen.set(key, { kib, at: now });
  return kib;
}

function sample(): { rss: number; pss: number; serverRss: number; serverPss: number } {
  const ppid = new Map<string, string>();
  const matching: { pid: string; fields: string[] }[] = [];
  for (const pid of readdirSync("/proc")) {
    if (pid.charCodeAt(0) > 57 || String(process.pid) === pid) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    const fields = statFields(stat);
    ppid.set(pid, fields[1]!);
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (comm.test(name)) matching.push({ pid, fields });
  }
  let rss = 0;
  let pss = 0;
  let serverRss = 0;
  let serverPss = 0;
  for (const { pid, fields } of matching) {
    if (!oursCached(pid, fields, ppid)) continue;
    const r = rssKiB(fields);
    const p = pssCached(pid, fields);
    rss += r;
    pss += p;
    if (isServer(pid, fields)) {
      serverRss += r;
      serverPss += p;
    }
  }
  return { rss, pss, serverRss, serverPss };
}

let stop = false;
process.stdin.once("data", () => (stop = true));
process.stdout.write("ready\n");
let peakRss = 0;
let peakPss = 0;
let peakServerRss = 0;
let peakServerPss = 0;
let samples = 0;
while (!stop) {
  const s = sample();
  peakRss = Math.max(peakRss, s.rss);
  peakPss = Math.max(peakPss, s.pss);
  peakServerRss = Math.max(peakServerRss, s.serverRss);
  peakServerPss = Math.max(peakServerPss, s.serverPss);
  samples++;
  await Bun.sleep(SAMPLE_GAP_MS);
}
process.stdout.write(`${JSON.stringify({ rssKiB: peakRss, pssKiB: peakPss, samples, serverRssKiB: peakServerRss, serverPssKiB: peakServerPss })}\n`);
process.exit(0);
