// A private dockerd for the engine tests (test/e2e/docker.test.ts, test/systemd/docker.test.ts):
// data root, exec root, socket and pidfile under a temp dir, vfs storage, no networking changes
// to the host, each runtime registered with --add-runtime, the test image loaded from a local
// archive. /usr/bin/docker is used on purpose: a newer client elsewhere on PATH may come first.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildImageArchive, IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { daemonLog, killMentioning, run, startDaemon, stopDaemon, waitFor, type Daemon, type Result, type Runtime } from "./rig.ts";

/** Debian's client, matching its dockerd. */
export const DOCKER = "/usr/bin/docker";

export class PrivateDockerd {
  daemon: Daemon | undefined;

  /** `timeoutMs`: a docker call's default bound. */
  constructor(
    readonly dir: string,
    readonly timeoutMs: number,
  ) {}

  docker(args: string[], timeoutMs = this.timeoutMs): Result {
    return run([DOCKER, ...args], { env: { DOCKER_HOST: `unix://${this.dir}/docker.sock` }, timeoutMs });
  }

  /**
   * Starts it with `config` as its daemon.json, `flags` beside the private ones and each of
   * `runtimes` as `name(rt)`; waits for its socket and loads the test image, each within `boundMs`.
   */
  async start(opts: { config: object; flags: string[]; runtimes: Runtime[]; name: (rt: Runtime) => string; boundMs: number }): Promise<void> {
    const d = this.dir;
    writeFileSync(join(d, "daemon.json"), JSON.stringify(opts.config) + "\n");
    const argv = [
      "dockerd", "--config-file", join(d, "daemon.json"), "--data-root", join(d, "data"), "--exec-root", join(d, "exec"),
      "-H", `unix://${d}/docker.sock`, "--pidfile", join(d, "docker.pid"), "--storage-driver", "vfs",
      "--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
      ...opts.flags,
      ...opts.runtimes.flatMap((rt) => ["--add-runtime", `${opts.name(rt)}=${rt.path}`]),
    ];
    const daemon = (this.daemon = startDaemon(argv, join(d, "dockerd.log")));
    await waitFor(`dockerd socket (log: ${daemonLog(daemon)})`, () => existsSync(join(d, "docker.sock")) && this.docker(["version"]).code === 0, opts.boundMs);
    const archive = join(d, "image.tar");
    buildImageArchive(archive);
    const r = this.docker(["load", "-i", archive], opts.boundMs);
    if (r.code !== 0) throw new Error(`docker load: ${r.stderr.trim()}`);
  }

  /**
   * Removes every container (within `rmMs`: a runtime that hangs makes rm -f hang too, and the
   * daemon's stop cleans up the rest) and the image, stops it (`graceMs`) and anything it left.
   */
  async stop(rmMs: number, graceMs: number): Promise<void> {
    if (this.daemon) {
      const ids = this.docker(["ps", "-aq"]).stdout.split("\n").filter(Boolean);
      if (ids.length) this.docker(["rm", "-f", ...ids], rmMs);
      this.docker(["rmi", "-f", IMAGE_TAG]);
    }
    await stopDaemon(this.daemon, graceMs);
    await killMentioning(this.dir);
  }
}
