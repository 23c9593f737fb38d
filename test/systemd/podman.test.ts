// podman 4.3 in its systemd default (cgroup_manager = "systemd", journald events) on a systemd
// host with cgroup v2 only, driving runc (the control) and bunrunc: podman passes
// --systemd-cgroup and cgroupsPath "machine.slice:libpod:ID". Private config, vfs storage and
// runtime --root under a temp dir; the image is loaded from a local archive.
import { afterAll, beforeAll, describe } from "bun:test";
import { IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { ensurePackages, killMentioning, runPodman, removeTempDir, run, runtimes, setupPodman, tempDir, type Runtime } from "../e2e/rig.ts";
import { skipTitle, SYSTEMD_SKIP } from "./helpers.ts";
import { engineScenarios, type EngineRow, type Status } from "./scenarios.ts";

const skip =
  SYSTEMD_SKIP ||
  ensurePackages([
    { cmd: "podman", pkg: "podman" },
    { cmd: "conmon", pkg: "conmon" },
  ]);

let dir = "";
let env: Record<string, string> = {};

function podmanRow(rt: Runtime): EngineRow {
  const podman = (args: string[], timeoutMs = 60_000) => runPodman(dir, env, rt, args, timeoutMs);
  const inspect = (id: string, f: string) => podman(["inspect", "-f", f, id]).stdout.trim();
  return {
    runRm: (cmd) => podman(["run", "--rm", IMAGE_TAG, ...cmd]),
    start: (cmd, opts = {}) => {
      const mem = opts.memoryMiB ? ["--memory", `${opts.memoryMiB}m`] : [];
      const r = podman(["run", "-d", ...mem, IMAGE_TAG, ...cmd]);
      if (r.code !== 0) throw new Error(`podman run -d: ${r.stderr.trim()}`);
      return r.stdout.trim();
    },
    pid: (id) => Number(inspect(id, "{{.State.Pid}}")),
    exec: (id, cmd) => podman(["exec", id, ...cmd]),
    stop: (id) => {
      podman(["stop", "-t", "10", id]);
      return Number(inspect(id, "{{.State.ExitCode}}"));
    },
    pause: (id) => podman(["pause", id]).code === 0,
    resume: (id) => podman(["unpause", id]).code === 0,
    status: (id) => {
      const s = podman(["inspect", "-f", "{{.State.Status}}", id]);
      return (s.code === 0 ? s.stdout.trim() : "") as Status;
    },
    remove: (id) => podman(["rm", id]).code === 0,
    forceRemove: (id) => void podman(["rm", "-f", "-t", "0", id]),
    // State.OOMKilled stays false here with runc too (podman 4.3 on cgroup v2 under systemd):
    // the status alone is checked.
    oom: (mib, cmd) => ({ code: podman(["run", "--rm", "--memory", `${mib}m`, "--memory-swap", `${mib}m`, IMAGE_TAG, ...cmd]).code }),
    scope: (id) => ({ path: `/machine.slice/libpod-${id}.scope`, unit: `libpod-${id}.scope` }),
  };
}

describe.skipIf(skip !== "")(skipTitle(`podman, cgroup_manager systemd${skip && !SYSTEMD_SKIP ? ` [skipped: ${skip}]` : ""}`), () => {
  beforeAll(() => {
    dir = tempDir("bunrunc-sd-podman-");
    env = setupPodman(dir, { cgroupManager: "systemd", eventsLogger: "journald", loadTimeoutMs: 120_000 });
  }, 180_000);

  afterAll(async () => {
    if (dir) {
      for (const rt of runtimes()) runPodman(dir, env, rt, ["rm", "-af", "-t", "0"], 60_000);
      run(["podman", "rmi", "-af"], { env, timeoutMs: 60_000 });
      await killMentioning(dir);
    }
    removeTempDir(dir);
  }, 180_000);

  describe.each(runtimes())("with $name", (rt: Runtime) => engineScenarios(rt, () => podmanRow(rt)));
});
