// A private containerd for the engine tests (test/e2e/containerd.test.ts, test/systemd/
// containerd.test.ts): root, state and sockets under a temp dir, the CRI plugin off, the native
// snapshotter (no overlay mounts to leak), one namespace of the test's own, the test image
// imported from a local archive.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildImageArchive, IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { daemonLog, killMentioning, run, startDaemon, stopDaemon, waitFor, type Daemon, type Result } from "./rig.ts";

export const CONTAINERD_PACKAGES = [
  { cmd: "containerd", pkg: "containerd" },
  { cmd: "ctr", pkg: "containerd" },
  { cmd: "containerd-shim-runc-v2", pkg: "containerd" },
];
/** What every ctr call of these tests runs with. */
export const CTR_ENV = { CONTAINERD_SNAPSHOTTER: "native" };

export class PrivateContainerd {
  daemon: Daemon | undefined;

  /** `timeoutMs`: a ctr call's default bound. */
  constructor(
    readonly dir: string,
    readonly ns: string,
    readonly timeoutMs: number,
  ) {}

  /** `ctr` against this containerd, in its namespace. */
  argv(args: string[]): string[] {
    return ["ctr", "--address", join(this.dir, "c.sock"), "-n", this.ns, ...args];
  }

  ctr(args: string[], timeoutMs = this.timeoutMs): Result {
    return run(this.argv(args), { env: CTR_ENV, timeoutMs });
  }

  /** Writes its config, starts it, waits for its socket, imports the test image: each within `boundMs`. */
  async start(boundMs: number): Promise<void> {
    const d = this.dir;
    writeFileSync(
      join(d, "config.toml"),
      `version = 2
root = "${d}/root"
state = "${d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${d}/c.sock"
[ttrpc]
  address = "${d}/c.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
`,
    );
    const daemon = (this.daemon = startDaemon(["containerd", "--config", join(d, "config.toml")], join(d, "containerd.log")));
    await waitFor(`containerd socket (log: ${daemonLog(daemon)})`, () => existsSync(join(d, "c.sock")) && this.ctr(["version"]).code === 0, boundMs);
    const archive = join(d, "image.tar");
    buildImageArchive(archive);
    const r = this.ctr(["images", "import", archive], boundMs);
    if (r.code !== 0) throw new Error(`ctr images import: ${r.stderr.trim()}`);
  }

  /** Removes every container (with `removeTask`), the image and the namespace, then stops it and any shim it left. */
  async stop(removeTask: (id: string) => void): Promise<void> {
    if (this.daemon) {
      for (const id of this.ctr(["container", "ls", "-q"]).stdout.split("\n").filter(Boolean)) removeTask(id);
      this.ctr(["images", "rm", IMAGE_TAG]);
      this.ctr(["namespaces", "rm", this.ns]);
    }
    await stopDaemon(this.daemon);
    await killMentioning(this.dir); // detached shims of our containerd that outlived it
  }
}
