// The systemd VM tier: boots one throwaway VM with systemd as PID 1 and cgroup v2 only
// (scripts/vm/run.sh --systemd), runs every file in test/systemd inside it — each with its own
// JUnit report, in a few parallel lanes — and turns every file into one test here, failing with
// that file's output. A file added to test/systemd runs here with no other change.
// ~15 s to boot under TCG; the engines (podman, Docker, containerd) take most of the time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { ensurePackages } from "../e2e/rig.ts";

const REPO = resolve(import.meta.dir, "../..");
const RUNNER = join(REPO, "scripts/vm/run.sh");
/** The ceiling, for a loaded shared host; an idle one runs the tier in a fraction of it. */
const VM_TIMEOUT_S = 1800;
const LANES = 3;
/** Relative run time under TCG: an engine file costs about as much as three of the others. */
const weight = (file: string) => (/\/(docker|podman|containerd)\.test\.ts$/.test(file) ? 3 : 1);

const onPath = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
function skipReason(): string {
  if (process.env.BUNRUNC_SKIP_VM) return "BUNRUNC_SKIP_VM is set";
  if (process.getuid?.() !== 0) return "needs root";
  if (process.arch !== "x64") return "the VM image is x86_64";
  if (!existsSync("/lib/systemd/systemd")) return "no systemd on this host (the VM boots the host's /usr)";
  if (!onPath("qemu-system-x86_64") && !onPath("apt-get")) return "no qemu-system-x86_64 and no apt-get to install it";
  if (!existsSync(join(REPO, "dist/bunrunc"))) return "dist/bunrunc not built";
  // The VM runs the host's /usr read-only: the engines test/systemd drives are installed here first
  // (when apt cannot, their files skip inside the VM, saying so).
  ensurePackages([
    { cmd: "podman", pkg: "podman" },
    { cmd: "conmon", pkg: "conmon" },
    { cmd: "dockerd", pkg: "docker.io" },
    { cmd: "containerd", pkg: "containerd" },
    { cmd: "containerd-shim-runc-v2", pkg: "containerd" },
    { cmd: "runc", pkg: "runc" },
  ]);
  const setup = Bun.spawnSync(["bash", RUNNER, "--systemd", "--setup"], { stdout: "pipe", stderr: "pipe" });
  if (setup.exitCode !== 0) return `VM setup failed: ${(setup.stderr.toString().trim().split("\n").pop() ?? "").slice(0, 200)}`;
  return "";
}
const SKIP = skipReason();

const FILES = readdirSync(join(REPO, "test/systemd"))
  .filter((f) => f.endsWith(".test.ts"))
  .sort()
  .map((f) => `test/systemd/${f}`);
const reportName = (file: string) => basename(file, ".test.ts");
/** Files that disturb the whole VM (re-executing PID 1): they run alone, after the lanes. */
const ALONE = new Set(["test/systemd/daemon-reexec.test.ts"]);

let results = "";
let vm = { code: -1, out: "", seconds: 0 };

beforeAll(async () => {
  if (SKIP) return;
  results = mkdtempSync(join(tmpdir(), "bunrunc-test-vm-systemd-"));
  const bun = join(REPO, "node_modules/.bin/bun");
  // Each file goes to the lane with the least work so far, the engines first.
  const lanes: string[][] = Array.from({ length: LANES }, () => []);
  const load = Array.from({ length: LANES }, () => 0);
  const testCmd = (f: string) => `${bun} test --timeout 600000 --reporter=junit --reporter-outfile=${results}/${reportName(f)}.xml ${f} > ${results}/${reportName(f)}.log 2>&1`;
  for (const f of [...FILES].filter((f) => !ALONE.has(f)).sort((a, b) => weight(b) - weight(a))) {
    const lane = load.indexOf(Math.min(...load));
    load[lane]! += weight(f);
    lanes[lane]!.push(testCmd(f));
  }
  const script = [...lanes.filter((l) => l.length).map((cmds) => `(\n${cmds.join("\n")}\n) &`), "wait", ...FILES.filter((f) => ALONE.has(f)).map(testCmd)].join("\n");
  const env = { ...process.env, VM_SMP: String(LANES + 1), VM_MEM: "3072" };
  const started = performance.now();
  const p = Bun.spawn(["bash", RUNNER, "--systemd", "--share", REPO, "--share", results, "--timeout", String(VM_TIMEOUT_S), "--", script], { stdout: "pipe", stderr: "pipe", env });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  vm = { code, out: out + err, seconds: Math.round((performance.now() - started) / 1000) };
  console.log(`systemd VM tier: ${FILES.length} files in ${vm.seconds} s (status ${code})`);
}, (VM_TIMEOUT_S + 120) * 1000);

/** The <testsuites> totals of a bun JUnit report. */
function totals(xml: string): { tests: number; failures: number; errors: number; skipped: number } {
  const head = /<testsuites\b([^>]*)>/.exec(xml)?.[1] ?? "";
  const attr = (n: string) => Number(new RegExp(`\\b${n}="(\\d+)"`).exec(head)?.[1] ?? 0);
  return { tests: attr("tests"), failures: attr("failures"), errors: attr("errors"), skipped: attr("skipped") };
}

describe.skipIf(Boolean(SKIP))(`systemd VM tier${SKIP ? ` [skipped: ${SKIP}]` : ""}`, () => {
  test("the VM booted systemd and ran every file", () => {
    if (vm.code !== 0) throw new Error(`the systemd VM run failed (status ${vm.code}):\n${vm.out.slice(-4000)}`);
  });

  test.each(FILES)("%s passes inside the systemd VM", (file) => {
    const name = reportName(file);
    const xmlPath = join(results, `${name}.xml`);
    const log = existsSync(join(results, `${name}.log`)) ? readFileSync(join(results, `${name}.log`), "utf8") : "(no log)";
    if (!existsSync(xmlPath)) throw new Error(`${file}: no report from the VM\n${log.slice(-4000)}`);
    const t = totals(readFileSync(xmlPath, "utf8"));
    // Skips inside the VM are named in the file's log (e.g. a bunrunc row waiting for the driver).
    const skipped = log.split("\n").filter((l) => l.startsWith("(skip)"));
    if (skipped.length) console.log(`${file}: ${t.skipped} skipped inside the VM:\n${skipped.join("\n")}`);
    if (t.failures || t.errors) {
      const failing = log.split("\n").filter((l) => l.startsWith("(fail)") || /^error:|Error:/.test(l));
      throw new Error(`${file} in the systemd VM: ${t.failures} failed, ${t.errors} errors\n${failing.join("\n")}\n--- log tail ---\n${log.slice(-3000)}`);
    }
    expect(t.tests).toBeGreaterThan(0);
  });
});

afterAll(() => {
  if (results) rmSync(results, { recursive: true, force: true });
});
