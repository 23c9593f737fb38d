// Rootless podman (Debian's 4.3 + conmon) as a throwaway user with subordinate ids: its own
// containers.conf/storage.conf (vfs storage in its home, cgroupfs, no network, file events), the
// busybox image loaded from a local archive, each runtime through `--runtime PATH` — Debian's runc
// as the control, then dist/bunrunc. podman runs the runtime as root of its own user namespace
// (newuidmap'ed from the user's ranges); on cgroup v1 rootless podman runs without cgroups.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { buildImageArchive, IMAGE_TAG } from "../../scripts/e2e/image.ts";
import { ensurePackages, runtimes, podmanEnv as podmanConfigEnv, writePodmanConfig, type Runtime } from "../e2e/rig.ts";
import { makeTestUser, mountsUnder, SKIP_REASON, userFront, type Result, type TestUser } from "./user.ts";

setDefaultTimeout(180_000);

function skipReason(): string {
  if (SKIP_REASON) return SKIP_REASON;
  const missing = ensurePackages([
    { cmd: "podman", pkg: "podman" },
    { cmd: "conmon", pkg: "conmon" },
    { cmd: "newuidmap", pkg: "uidmap" },
  ]);
  if (missing) return missing;
  // Rootless podman needs user namespaces for users (a kernel or sysctl may forbid them).
  const probe = Bun.spawnSync(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "unshare", "--user", "--map-root-user", "true"], { stderr: "pipe" });
  if (probe.exitCode !== 0) return `rootless podman cannot run on this machine: an unprivileged user cannot make a user namespace (${probe.stderr.toString().trim()})`;
  return "";
}
const skip = skipReason();

let user: TestUser;
let conf = "";
let podmanEnv: Record<string, string> = {};

function podman(rt: Runtime, args: string[]): Result {
  return user.run(["podman", "--runtime", rt.name === "bunrunc" ? userFront(user) : rt.path, ...args], { env: podmanEnv });
}

describe.skipIf(skip !== "")(`rootless podman${skip ? ` (skipped: ${skip})` : ""}`, () => {
  beforeAll(() => {
    user = makeTestUser({ subIds: true });
    conf = join(user.home, "podman");
    writePodmanConfig(conf);
    buildImageArchive(join(conf, "image.tar"));
    user.give(conf);
    podmanEnv = user.env(podmanConfigEnv(conf));
    const load = user.run(["podman", "load", "-i", join(conf, "image.tar")], { env: podmanEnv });
    if (load.code !== 0) throw new Error(`podman load as ${user.name}: ${(load.stderr || load.stdout).trim()}`);
  });

  afterAll(() => {
    if (user) for (const rt of runtimes()) podman(rt, ["rm", "-af", "-t", "0"]);
    // podman's pause process (its user namespace's keeper) and anything a failed test left.
    user?.remove();
  });

  describe.each(runtimes())("with $name", (rt) => {
    // One foreground run per runtime: on a host whose PID 1 never reaps (this one), podman waits
    // its 20 s conmon timeout after each one, runc and bunrunc alike.
    test("run --rm: output, the user's subordinate ids mapped, the exit code, nothing left", () => {
      const r = podman(rt, ["run", "--rm", IMAGE_TAG, "sh", "-c", "echo hello; id -u; cat /proc/self/uid_map; exit 42"]);
      expect(r.stderr).toBe("");
      const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
      expect(lines).toEqual(["hello", "0", `0 ${user.uid} 1`, `1 ${user.subuid!.start} ${user.subuid!.count}`]);
      expect(r.code).toBe(42);
      expect(podman(rt, ["ps", "-aq"]).stdout).toBe("");
    });

    test("run -d, exec (output, exit code), stop delivers SIGTERM, rm", () => {
      const id = podman(rt, ["run", "-d", IMAGE_TAG, "sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.1; done"]).stdout.trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      if (rt.name === "bunrunc") {
        // The runtime ran as the user (root of podman's namespace): its state is the user's, in
        // the default root $XDG_RUNTIME_DIR/bunrunc, and the user's own bunrunc lists it.
        const list = user.bunrunc(["list", "--format", "json"]);
        const mine = (JSON.parse(list.stdout) as { id: string; owner: string; status: string }[]).find((c) => c.id === id);
        expect(mine).toMatchObject({ owner: user.name, status: "running" });
      }
      const e = podman(rt, ["exec", id, "sh", "-c", "echo $((6*7)) $(id -u)"]);
      expect([e.stdout, e.code]).toEqual(["42 0\n", 0]);
      expect(podman(rt, ["exec", id, "sh", "-c", "exit 5"]).code).toBe(5);
      expect(podman(rt, ["stop", "-t", "10", id]).code).toBe(0);
      expect(podman(rt, ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id]).stdout.trim()).toBe("exited 3");
      expect(podman(rt, ["rm", id]).code).toBe(0);
      expect(podman(rt, ["ps", "-aq"]).stdout).toBe("");
      if (rt.name === "bunrunc") {
        const root = join(user.runtimeDir, "bunrunc");
        expect(existsSync(root) ? readdirSync(root).filter((e) => !e.startsWith(".") && !e.startsWith("@")) : []).toEqual([]);
      }
      expect(mountsUnder(user.dir)).toEqual([]);
    });
  });
});
