// containerd 1.6 with the runc v2 shim in its systemd mode (SystemdCgroup = true, as kubeadm sets
// it; `ctr run --runc-systemd-cgroup`) on a systemd host with cgroup v2 only, driving runc (the
// control) and bunrunc through --runc-binary. The cgroupsPath is a kubelet-style
// "kubepods-besteffort.slice:cri-containerd:ID", so the scope lands in nested slices. A private
// containerd (root, state, sockets under a temp dir, CRI plugin off, native snapshotter).
import { afterAll, beforeAll, describe } from "bun:test";
import { join } from "node:path";
import { IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { CONTAINERD_PACKAGES, CTR_ENV as env, PrivateContainerd } from "../e2e/containerd-rig.ts";
import { ensurePackages, removeTempDir, runtimes, tempDir, uniqueName, type Result, type Runtime } from "../e2e/rig.ts";
import { scopePath, skipTitle, SYSTEMD_SKIP } from "./helpers.ts";
import { engineScenarios, type EngineRow, type Status } from "./scenarios.ts";

const skip =
  SYSTEMD_SKIP ||
  ensurePackages(CONTAINERD_PACKAGES);
const ns = uniqueName("sd-ctr-");
const SLICE = "kubepods-besteffort.slice";
const PREFIX = "cri-containerd";

let dir = "";
let containerd: PrivateContainerd | undefined;
let n = 0; // container and exec ids: unique in this file's namespace
/** The attached `ctr run` of each started container: it exits with the container's status. */
const attached = new Map<string, ReturnType<typeof Bun.spawn>>();

const ctr = (args: string[], timeoutMs?: number): Result => containerd!.ctr(args, timeoutMs);

/** The task's row of `ctr task ls` (TASK PID STATUS), undefined when there is no task. */
function task(id: string): { pid: number; status: string } | undefined {
  const cols = ctr(["task", "ls"]).stdout.split("\n").map((l) => l.trim().split(/\s+/)).find((c) => c[0] === id);
  return cols ? { pid: Number(cols[1]), status: cols[2] ?? "" } : undefined;
}

function waitStopped(id: string, ms: number): boolean {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (task(id)?.status !== "RUNNING") return true;
    Bun.sleepSync(100);
  }
  return false;
}

function ctrRow(rt: Runtime): EngineRow {
  const runtime = ["--runc-binary", rt.path, "--runc-root", join(dir, `runc-${rt.name}`), "--runc-systemd-cgroup"];
  const newId = () => `${rt.name}-${process.pid}-${n++}`;
  const cgroup = (id: string) => ["--cgroup", `${SLICE}:${PREFIX}:${id}`];
  return {
    runRm: (cmd) => {
      const id = newId();
      return ctr(["run", "--rm", ...runtime, ...cgroup(id), IMAGE_TAG, id, ...cmd]);
    },
    // Attached (ctr run without -d) in the background: ctr has no stop and `task rm` does not
    // report the status, but an attached run exits with the container's.
    start: (cmd, opts = {}) => {
      const id = newId();
      const mem = opts.memoryMiB ? ["--memory-limit", String(opts.memoryMiB << 20)] : [];
      const argv = containerd!.argv(["run", ...runtime, ...cgroup(id), ...mem, IMAGE_TAG, id, ...cmd]);
      attached.set(id, Bun.spawn(argv, { env: { ...process.env, ...env }, stdin: "ignore", stdout: "ignore", stderr: "pipe" }));
      const deadline = Date.now() + 120_000;
      while (task(id)?.status !== "RUNNING") {
        if (Date.now() > deadline || attached.get(id)!.exitCode !== null) throw new Error(`ctr run ${id} did not start a running task`);
        Bun.sleepSync(100);
      }
      return id;
    },
    pid: (id) => task(id)?.pid ?? 0,
    exec: (id, cmd) => ctr(["task", "exec", "--exec-id", `x${n++}`, id, ...cmd]),
    stop: async (id) => {
      ctr(["task", "kill", "-s", "SIGTERM", id]);
      if (!waitStopped(id, 10_000)) ctr(["task", "kill", "-s", "SIGKILL", id]);
      return await attached.get(id)!.exited;
    },
    pause: (id) => ctr(["task", "pause", id]).code === 0,
    resume: (id) => ctr(["task", "resume", id]).code === 0,
    status: (id) => {
      const t = task(id);
      if (t) return ({ RUNNING: "running", PAUSED: "paused", STOPPED: "exited" } as Record<string, Status>)[t.status] ?? "";
      return ctr(["container", "info", id]).code === 0 ? "exited" : "";
    },
    remove: (id) => {
      if (task(id)) ctr(["task", "rm", "-f", id]);
      return ctr(["container", "rm", id]).code === 0;
    },
    forceRemove: (id) => {
      if (task(id)) {
        ctr(["task", "kill", "-s", "SIGKILL", id]);
        waitStopped(id, 10_000);
      }
      // The attached ctr deletes the task as its container exits.
      const p = attached.get(id);
      for (let i = 0; i < 200 && p && p.exitCode === null; i++) Bun.sleepSync(100);
      if (task(id)) ctr(["task", "rm", "-f", id]);
      ctr(["container", "rm", id]);
    },
    oom: (mib, cmd) => {
      const id = newId();
      return { code: ctr(["run", "--rm", ...runtime, ...cgroup(id), "--memory-limit", String(mib << 20), IMAGE_TAG, id, ...cmd]).code };
    },
    scope: (id) => ({ path: scopePath(SLICE, PREFIX, id), unit: `${PREFIX}-${id}.scope` }),
  };
}

describe.skipIf(skip !== "")(skipTitle(`containerd, SystemdCgroup = true${skip && !SYSTEMD_SKIP ? ` [skipped: ${skip}]` : ""}`), () => {
  beforeAll(async () => {
    dir = tempDir("bunrunc-sd-ctr-");
    containerd = new PrivateContainerd(dir, ns, 60_000);
    await containerd.start(120_000);
  }, 240_000);

  afterAll(async () => {
    await containerd?.stop((id) => {
      ctr(["task", "kill", "-s", "SIGKILL", id]);
      waitStopped(id, 10_000);
      ctr(["task", "rm", "-f", id]);
      ctr(["container", "rm", id]);
    });
    removeTempDir(dir);
  }, 180_000);

  describe.each(runtimes())("with $name", (rt: Runtime) => engineScenarios(rt, () => ctrRow(rt)));
});
