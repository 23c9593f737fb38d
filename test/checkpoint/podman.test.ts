// podman's `container checkpoint` / `container restore` (and --export / --import) with
// `--runtime` bunrunc, Debian's runc as the control: a busybox counter keeps counting across
// them, never starting again from 0. Hermetic like test/e2e/podman.test.ts (private config, vfs
// storage, runtime --root under a temp dir, a private cgroup parent, the image from an archive).
// CRIU runs where `criu check` passes (the VM tier); elsewhere this skips saying why.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { killMentioning, runPodman, removeCgroupTree, removeTempDir, run, runtimes, setupPodman, tempDir, uniqueName, type Result, type Runtime } from "../e2e/rig.ts";
import { criuSkipReason } from "./helpers.ts";

function skipReason(): string {
  const criu = criuSkipReason();
  if (criu) return criu;
  if (!Bun.which("podman") || !Bun.which("conmon")) return "podman and conmon are not installed";
  return "";
}
const SKIP = skipReason();
const T = 300_000;
const COUNTER = "i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done";

let dir = "";
let env: Record<string, string> = {};
const cgroupParent = uniqueName("bunrunc-ck-podman-");

const podmanFor = (rt: Runtime) => (args: string[], timeoutMs = 120_000) => runPodman(dir, env, rt, args, timeoutMs);

function ok(r: Result, what: string): string {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

const numbers = (logs: string) => logs.split("\n").filter((l) => /^\d+$/.test(l)).map(Number);

/** The counter's log: every number once, in order from 0, with no gap and no second 0 (no restart). */
function expectOneRun(logs: string): void {
  const n = numbers(logs);
  expect(n.length).toBeGreaterThan(0);
  expect(n).toEqual(n.map((_, i) => i));
}

async function waitLogs(podman: ReturnType<typeof podmanFor>, id: string, atLeast: number): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const logs = ok(podman(["logs", id]), "podman logs");
    if (numbers(logs).length >= atLeast) return logs;
    if (Date.now() > deadline) throw new Error(`the counter printed ${numbers(logs).length} numbers, not ${atLeast}: ${logs.slice(-200)}`);
    await Bun.sleep(500);
  }
}

describe.skipIf(Boolean(SKIP))(`podman checkpoint/restore${SKIP ? ` [skipped: ${SKIP}]` : ""}`, () => {
  beforeAll(() => {
    dir = tempDir("bunrunc-ck-podman-");
    env = setupPodman(dir, { loadTimeoutMs: 120_000 });
  }, T);

  afterAll(async () => {
    if (dir) {
      for (const rt of runtimes()) podmanFor(rt)(["rm", "-af", "-t", "0"]);
      run(["podman", "rmi", "-af"], { env });
      await killMentioning(dir);
    }
    await removeCgroupTree(cgroupParent);
    removeTempDir(dir);
  });

  describe.each(runtimes())("with $name", (rt) => {
    const podman = podmanFor(rt);

    test("container checkpoint stops the counter; container restore continues it", async () => {
      const id = ok(podman(["run", "-d", "--cgroup-parent", `/${cgroupParent}`, IMAGE_TAG, "sh", "-c", COUNTER]), "podman run").trim();
      await waitLogs(podman, id, 3);
      ok(podman(["container", "checkpoint", id]), "podman container checkpoint");
      expect(ok(podman(["inspect", "-f", "{{.State.Status}}", id]), "inspect").trim()).toBe("exited");
      const before = numbers(ok(podman(["logs", id]), "logs")).length;
      ok(podman(["container", "restore", id]), "podman container restore");
      expect(ok(podman(["inspect", "-f", "{{.State.Status}}", id]), "inspect").trim()).toBe("running");
      expectOneRun(await waitLogs(podman, id, before + 3));
      ok(podman(["rm", "-f", "-t", "0", id]), "rm");
    }, T);

    test("checkpoint --export, rm, restore --import: the counter goes on in the imported container", async () => {
      const name = uniqueName("ck-export");
      const id = ok(podman(["run", "-d", "--name", name, "--cgroup-parent", `/${cgroupParent}`, IMAGE_TAG, "sh", "-c", COUNTER]), "podman run").trim();
      await waitLogs(podman, id, 3);
      const archive = join(dir, `${name}.tar.gz`);
      ok(podman(["container", "checkpoint", "--export", archive, id]), "podman container checkpoint --export");
      const last = numbers(ok(podman(["logs", id]), "logs")).at(-1)!;
      ok(podman(["rm", "-f", "-t", "0", id]), "rm");
      const restored = ok(podman(["container", "restore", "--import", archive]), "podman container restore --import").trim();
      expect(ok(podman(["inspect", "-f", "{{.State.Status}}", restored]), "inspect").trim()).toBe("running");
      // The imported container's log may start empty or carry the exported one: either way the
      // numbers run on without a gap or a second 0, through the one after the dump.
      const logs = await waitLogs(podman, restored, 2);
      const n = numbers(logs);
      expect([0, last + 1]).toContain(n[0]!);
      expect(n).toEqual(n.map((_, i) => n[0]! + i));
      expect(n.at(-1)!).toBeGreaterThan(last);
      ok(podman(["rm", "-f", "-t", "0", restored]), "rm");
    }, T);
  });
});
