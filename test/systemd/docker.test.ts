// Docker 20.10 with native.cgroupdriver=systemd on a systemd host with cgroup v2 only, driving
// runc (the control) and bunrunc registered with --add-runtime: dockerd passes --systemd-cgroup
// and cgroupsPath "system.slice:docker:ID". A private dockerd (data root, exec root, socket under
// a temp dir, vfs, no networking changes); the image is loaded from a local archive.
import { afterAll, beforeAll, describe } from "bun:test";
import { IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { PrivateDockerd } from "../e2e/docker-rig.ts";
import { ensurePackages, removeTempDir, runtimes, tempDir, type Result, type Runtime } from "../e2e/rig.ts";
import { skipTitle, SYSTEMD_SKIP } from "./helpers.ts";
import { engineScenarios, type EngineRow, type Status } from "./scenarios.ts";

const skip =
  SYSTEMD_SKIP ||
  ensurePackages([
    { cmd: "dockerd", pkg: "docker.io" },
    { cmd: "containerd", pkg: "containerd" },
  ]);
const engineName = (rt: Runtime) => `sd-${rt.name}`; // Docker reserves "runc" for its built-in entry

let dir = "";
let dockerd: PrivateDockerd | undefined;

const docker = (args: string[], timeoutMs?: number): Result => dockerd!.docker(args, timeoutMs);

function dockerRow(rt: Runtime): EngineRow {
  const base = ["--runtime", engineName(rt), "--network", "none"];
  const inspect = (id: string, f: string) => docker(["inspect", "-f", f, id]).stdout.trim();
  return {
    runRm: (cmd) => docker(["run", "--rm", ...base, IMAGE_TAG, ...cmd]),
    start: (cmd, opts = {}) => {
      const mem = opts.memoryMiB ? ["--memory", `${opts.memoryMiB}m`] : [];
      const r = docker(["run", "-d", ...base, ...mem, IMAGE_TAG, ...cmd]);
      if (r.code !== 0) throw new Error(`docker run -d: ${r.stderr.trim()}`);
      return r.stdout.trim();
    },
    pid: (id) => Number(inspect(id, "{{.State.Pid}}")),
    exec: (id, cmd) => docker(["exec", id, ...cmd]),
    stop: (id) => {
      docker(["stop", "-t", "10", id]);
      return Number(inspect(id, "{{.State.ExitCode}}"));
    },
    pause: (id) => docker(["pause", id]).code === 0,
    resume: (id) => docker(["unpause", id]).code === 0,
    status: (id) => {
      const s = docker(["inspect", "-f", "{{.State.Status}}", id]);
      return (s.code === 0 ? s.stdout.trim() : "") as Status;
    },
    remove: (id) => docker(["rm", id]).code === 0,
    forceRemove: (id) => void docker(["rm", "-f", id]),
    oom: (mib, cmd) => {
      const name = `oom-${rt.name}-${process.pid}`;
      const r = docker(["run", "--name", name, ...base, "--memory", `${mib}m`, "--memory-swap", `${mib}m`, IMAGE_TAG, ...cmd]);
      const killed = inspect(name, "{{.State.OOMKilled}}") === "true";
      docker(["rm", "-f", name]);
      return { code: r.code, oomKilled: killed };
    },
    scope: (id) => ({ path: `/system.slice/docker-${id}.scope`, unit: `docker-${id}.scope` }),
  };
}

describe.skipIf(skip !== "")(skipTitle(`docker, native.cgroupdriver=systemd${skip && !SYSTEMD_SKIP ? ` [skipped: ${skip}]` : ""}`), () => {
  beforeAll(async () => {
    dir = tempDir("bunrunc-sd-docker-");
    dockerd = new PrivateDockerd(dir, 60_000);
    await dockerd.start({ config: { "exec-opts": ["native.cgroupdriver=systemd"] }, flags: [], runtimes: runtimes(), name: engineName, boundMs: 120_000 });
    const info = docker(["info", "-f", "{{.CgroupDriver}} {{.CgroupVersion}}"]).stdout.trim();
    if (info !== "systemd 2") throw new Error(`dockerd runs with cgroup driver/version "${info}", not "systemd 2"`);
  }, 240_000);

  afterAll(async () => {
    await dockerd?.stop(60_000, 20_000);
    removeTempDir(dir);
  }, 180_000);

  describe.each(runtimes())("with $name", (rt: Runtime) => engineScenarios(rt, () => dockerRow(rt)));
});
