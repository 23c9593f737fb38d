// The cgroup v2 tier: boots one throwaway VM whose only cgroup hierarchy is v2
// (scripts/vm/run.sh), runs the cgroup, lifecycle, resident-server, checkpoint and rootless test files inside it — each with its own
// JUnit report — and turns every file into one test here, failing with that file's output.
// ~4 s to boot under TCG; without test/checkpoint the files run in well under 5 minutes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
const RUNNER = join(REPO, "scripts/vm/run.sh");
// The checkpoint files (CRIU and podman under TCG) take 8-12 minutes in their lanes and slow the
// others: 900 s was no longer enough on a shared 2-core host (see README, VM tier).
const VM_TIMEOUT_S = 1800;
const LANES = 3;

const onPath = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
function skipReason(): string {
  if (process.env.BUNRUNC_SKIP_VM) return "BUNRUNC_SKIP_VM is set";
  if (process.getuid?.() !== 0) return "needs root";
  if (process.arch !== "x64") return "the VM image is x86_64";
  if (!onPath("qemu-system-x86_64") && !onPath("apt-get")) return "no qemu-system-x86_64 and no apt-get to install it";
  if (!existsSync(join(REPO, "zig-out/lib/libbunrunc.so"))) return "zig-out not built";
  // Installs qemu and fetches the kernel the first time (cached after): without them, skip.
  const setup = Bun.spawnSync(["bash", RUNNER, "--setup"], { stdout: "pipe", stderr: "pipe" });
  if (setup.exitCode !== 0) return `VM setup failed: ${(setup.stderr.toString().trim().split("\n").pop() ?? "").slice(0, 200)}`;
  return "";
}
const SKIP = skipReason();

const files = (dir: string) =>
  readdirSync(join(REPO, dir))
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => `${dir}/${f}`);
/**
 * Not in the VM: what no kernel or cgroup version changes, and that costs most under TCG. The
 * state checks (hundreds of direct calls, each a Bun start: ~30 min emulated) and the served-vs-
 * direct fuzz (nothing is served on the VM's 6.1 kernel, which lacks SO_PEERPIDFD).
 * test/checkpoint: criu runs on the VM's Debian kernel (its `criu check` fails on newer hosts).
 */
const HOST_ONLY = new Set(["test/lib/state-trust.test.ts", "test/server/fuzz.test.ts"]);
/**
 * Rootless on cgroup v2 with a delegated subtree. The other rootless files stay on the host: the
 * workflow makes ~40 calls as another user (each an emulated Bun start: 10+ minutes under TCG),
 * and the attack and subordinate-id files need the host's /etc (shadow, subuid).
 */
const ROOTLESS = ["test/rootless/delegated-v2.test.ts"];
const FILES = [...files("test/cgroups"), ...files("test/lib"), ...files("test/server"), ...files("test/checkpoint"), ...ROOTLESS].filter((f) => !HOST_ONLY.has(f));

/** Relative run time in the VM: a checkpoint file takes about as long as a dozen of the others, the rootless one four. */
const weight = (file: string) => (file.startsWith("test/checkpoint/") ? 12 : file.startsWith("test/rootless/") ? 4 : 1);

let results = "";
const reportName = (file: string) => `${file.split("/")[1]}-${basename(file, ".test.ts")}`;
let vm = { code: -1, out: "" };

beforeAll(async () => {
  if (SKIP) return;
  results = mkdtempSync(join(tmpdir(), "bunrunc-test-vm-"));
  const bun = join(REPO, "node_modules/.bin/bun");
  // The files run in LANES parallel bun processes (each file still alone in its process); TCG
  // gives every vCPU its own host thread.
  // Each file goes to the lane with the least work so far, the slow ones first (CRIU and podman
  // under TCG take minutes, the others seconds), so no lane carries two of them.
  const lanes: string[][] = Array.from({ length: LANES }, () => []);
  const load = Array.from({ length: LANES }, () => 0);
  for (const f of [...FILES].sort((a, b) => weight(b) - weight(a))) {
    const lane = load.indexOf(Math.min(...load));
    load[lane]! += weight(f);
    const name = reportName(f);
    lanes[lane]!.push(`${bun} test --timeout 30000 --reporter=junit --reporter-outfile=${results}/${name}.xml ${f} > ${results}/${name}.log 2>&1`);
  }
  const script = [
    "grep -c ' - cgroup ' /proc/self/mountinfo > " + `${results}/v1-mounts.txt`,
    "stat -fc %T /sys/fs/cgroup > " + `${results}/fstype.txt`,
    ...lanes.map((cmds) => `(\n${cmds.join("\n")}\n) &`),
    "wait",
  ].join("\n");
  const env = { ...process.env, VM_SMP: String(LANES + 1), VM_MEM: "2048" };
  const p = Bun.spawn(["bash", RUNNER, "--share", REPO, "--share", results, "--timeout", String(VM_TIMEOUT_S), "--", script], { stdout: "pipe", stderr: "pipe", env });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  vm = { code, out: out + err };
}, (VM_TIMEOUT_S + 120) * 1000);

/** The <testsuites> totals of a bun JUnit report. */
function totals(xml: string): { tests: number; failures: number; errors: number; skipped: number } {
  const head = /<testsuites\b([^>]*)>/.exec(xml)?.[1] ?? "";
  const attr = (n: string) => Number(new RegExp(`\\b${n}="(\\d+)"`).exec(head)?.[1] ?? 0);
  return { tests: attr("tests"), failures: attr("failures"), errors: attr("errors"), skipped: attr("skipped") };
}

describe.skipIf(Boolean(SKIP))(`cgroup v2 VM tier${SKIP ? ` [skipped: ${SKIP}]` : ""}`, () => {
  test("the VM booted, ran everything, and has cgroup v2 only", () => {
    if (vm.code !== 0) throw new Error(`the VM run failed (status ${vm.code}):\n${vm.out.slice(-4000)}`);
    expect(readFileSync(join(results, "fstype.txt"), "utf8").trim()).toBe("cgroup2fs");
    expect(readFileSync(join(results, "v1-mounts.txt"), "utf8").trim()).toBe("0");
  });

  test.each(FILES)("%s passes inside the VM", (file) => {
    const name = reportName(file);
    const xmlPath = join(results, `${name}.xml`);
    const log = existsSync(join(results, `${name}.log`)) ? readFileSync(join(results, `${name}.log`), "utf8") : "(no log)";
    if (!existsSync(xmlPath)) throw new Error(`${file}: no report from the VM\n${log.slice(-4000)}`);
    const t = totals(readFileSync(xmlPath, "utf8"));
    if (t.failures || t.errors) {
      const failing = log.split("\n").filter((l) => l.startsWith("(fail)") || /^error:|Error:/.test(l));
      throw new Error(`${file} in the cgroup v2 VM: ${t.failures} failed, ${t.errors} errors\n${failing.join("\n")}\n--- log tail ---\n${log.slice(-3000)}`);
    }
    expect(t.tests).toBeGreaterThan(0);
  });
});

afterAll(() => {
  if (results) rmSync(results, { recursive: true, force: true });
});
