// The network namespace a container gets: one bunrunc creates has lo up with 127.0.0.1 (runc
// does it; podman's network "none" and `ctr run` rely on it), on every path a call can take
// (library, served by the resident server, direct); one joined by path is left as it was.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { front, FRONT_SKIP, PATHS, SERVED, serverUp, canRunFront } from "../helpers/front.ts";
import { pathSkip, pathTest } from "../helpers/front.ts";
import { canRunContainers, cleanRuns, SKIP_REASON } from "./container-helper.ts";

const run = cleanRuns();
const unshareBin = ["/usr/bin/unshare", "/bin/unshare"].find(existsSync);
/** IFF_UP | IFF_LOOPBACK: what /sys/class/net/lo/flags reads once lo is up (0x8 while down). */
const LO_UP = "0x9";
const LO_DOWN = "0x8";
const PROBE_LO = "cat /sys/class/net/lo/flags; ip -4 addr show dev lo; ping -c1 -W2 127.0.0.1 >/dev/null && echo reached";

/** busybox's ip and ping in the rootfs, and CAP_NET_RAW for ping's raw socket. */
function withNetTools(spec: Spec, b: TestBundle): void {
  for (const applet of ["ip", "ping"]) symlinkSync("busybox", join(b.rootfs, "bin", applet));
  const caps = spec.process!.capabilities!;
  for (const set of ["bounding", "effective", "permitted"] as const) caps[set] = [...(caps[set] ?? []), "CAP_NET_RAW"];
}

function expectLoUp(out: string): void {
  const lines = out.trim().split("\n");
  expect(lines[0]).toBe(LO_UP);
  expect(out).toContain("inet 127.0.0.1/8");
  expect(lines.at(-1)).toBe("reached");
}

describe.skipIf(!canRunContainers)(`network namespace: loopback${SKIP_REASON}`, () => {
  test("a new network namespace has lo up with 127.0.0.1, reachable (library)", async () => {
    const r = await run(PROBE_LO, withNetTools);
    expect(r.code).toBe(0);
    expectLoUp(r.out);
  });

  test("in a new user namespace too: the init's rights in it reach the network namespace", async () => {
    const r = await run(PROBE_LO, (s, b) => {
      withNetTools(s, b);
      s.linux!.namespaces!.push({ type: "user" });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    });
    expect(r.code).toBe(0);
    expectLoUp(r.out);
  });

  describe.skipIf(!unshareBin)(`joined by path${unshareBin ? "" : " [skipped: no unshare(1)]"}`, () => {
    const started: { kill(sig?: number): void; exited: Promise<number> }[] = [];
    afterEach(async () => {
      for (const p of started.splice(0)) {
        p.kill(9);
        await p.exited;
      }
    });

    test("a network namespace joined by path keeps lo as its owner left it (down)", async () => {
      const holder = Bun.spawn([unshareBin!, "--net", "sh", "-c", "echo ready; exec sleep 300"], { stdout: "pipe" });
      started.push(holder);
      const reader = holder.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("ready");
      reader.releaseLock();
      const r = await run("cat /sys/class/net/lo/flags", (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: `/proc/${holder.pid}/ns/net` } : n));
      });
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(LO_DOWN);
    });
  });
});

describe.skipIf(!canRunFront)(`network namespace: loopback through dist/bunrunc${FRONT_SKIP}`, () => {
  const bundles: TestBundle[] = [];
  afterEach(() => {
    for (const b of bundles.splice(0)) b.cleanup();
  });

  for (const path of PATHS) {
    pathTest(path)(`${path}${pathSkip(path)}: run sees lo up with 127.0.0.1, reachable`, () => {
      const spec = defaultSpec(["sh", "-c", PROBE_LO]);
      const b = makeBundle(spec);
      bundles.push(b);
      withNetTools(spec, b);
      b.writeSpec(spec);
      if (path === "served") serverUp(b.root);
      const r = front(path, ["--debug", "--root", b.root, "run", "-b", b.bundle, uniqueId("lo")]);
      expect(r.code).toBe(0);
      expect(r.stderr.includes(SERVED)).toBe(path === "served");
      expectLoUp(r.stdout);
    });
  }
});
