// Bun shell: run N containers at once with the bunrunc command, read each one's `events --stats`
// while it runs, then collect their exit codes.
//
//   bun examples/parallel.ts [--root DIR] [--count N]      (as root; BUNRUNC=path/to/bunrunc)
import { $ } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUNRUNC, workspace } from "./busybox.ts";

const ws = workspace();
const at = process.argv.indexOf("--count");
const count = at > 0 ? Number(process.argv[at + 1]) : 4;
const ids = Array.from({ length: count }, (_, i) => `parallel-${process.pid}-${i}`);

// Each container does some work, then waits for a file we create once its stats are read, and
// exits with its own number: no guessing how long "running" lasts.
const bundles = ids.map((id, i) =>
  ws.bundle(id, ["sh", "-c", `seq 1 20000 | md5sum >/dev/null; while [ ! -e /tmp/go ]; do sleep 0.05; done; exit ${i + 10}`]),
);

try {
  // Foreground runs, all at once (a shell command starts when awaited: Promise.all starts them
  // now); each result carries that container's exit code.
  const runs = Promise.all(ids.map((id, i) => $`${BUNRUNC} --root ${ws.root} run --bundle ${bundles[i]} ${id}`.nothrow().quiet()));

  const status = async (id: string) => (await $`${BUNRUNC} --root ${ws.root} state ${id}`.nothrow().quiet().json().catch(() => ({}))).status;
  for (const id of ids) {
    for (let i = 0; i < 600 && (await status(id)) !== "running"; i++) await Bun.sleep(50);
    if ((await status(id)) !== "running") throw new Error(`${id} never ran`);
  }

  // One stats event each, as JSON: {type: "stats", id, data: {cpu, memory, pids, ...}}.
  const stats = await Promise.all(ids.map((id) => $`${BUNRUNC} --root ${ws.root} events --stats ${id}`.json()));

  for (const b of bundles) writeFileSync(join(b, "rootfs/tmp/go"), "");
  const codes = (await runs).map((r) => r.exitCode);

  console.log("id".padEnd(24), "exit", "cpu ms".padStart(8), "memory KiB".padStart(11), "pids".padStart(5));
  ids.forEach((id, i) => {
    const d = stats[i].data;
    const cpuMs = Number(d.cpu?.usage?.total ?? 0) / 1e6;
    const memKiB = Number(d.memory?.usage?.usage ?? 0) / 1024;
    console.log(id.padEnd(24), String(codes[i]).padStart(4), cpuMs.toFixed(1).padStart(8), memKiB.toFixed(0).padStart(11), String(d.pids?.current ?? "?").padStart(5));
  });
  const wrong = codes.filter((c, i) => c !== i + 10);
  if (wrong.length) throw new Error(`unexpected exit codes: ${codes.join(" ")}`);
} finally {
  // `run` deletes what it ran; a container left over (a failed start) goes here.
  for (const id of ids) await $`${BUNRUNC} --root ${ws.root} delete --force ${id}`.nothrow().quiet();
  ws.done();
}
