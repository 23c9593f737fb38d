// A config without a mount namespace (the spec allows it; runc runs it): the container's mounts
// are made in the runtime's mount namespace under one private bind of the rootfs, the init
// chroots into it, and `delete` removes every one of them (runc leaves them on the host). The
// host's own mounts keep their propagation.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { umountDetach } from "../../src/ffi.ts";
import { join } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { front, FRONT_SKIP, PATHS, canRunFront, serverUp } from "../helpers/front.ts";
import { pathSkip, pathTest } from "../helpers/front.ts";
import { canRunContainers, runIn, SKIP_REASON } from "./container-helper.ts";

const bundles: TestBundle[] = [];
/** A failing test must not leave the host mounts it checks for, nor rm -rf through them. */
function detachLeftovers(b: TestBundle): void {
  while (mountsUnder(b.dir).some((m) => m.startsWith(`${b.rootfs} `))) umountDetach(b.rootfs);
}
afterEach(() => {
  for (const b of bundles.splice(0)) {
    detachLeftovers(b);
    b.cleanup();
  }
});
const run: typeof runIn = (cmd, edit, opts = {}) => runIn(cmd, edit, { ...opts, track: (b) => bundles.push(b) });

function withoutMountNs(spec: Spec): void {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "mount");
}

/** "mount point + fs type + optional fields" of every mount under `dir` (other processes mount elsewhere on this host). */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.split(" ")[4]?.startsWith(`${dir}/`))
    .map((l) => l.split(" ").slice(4).join(" "));
}

/** The propagation fields (shared:N, master:N) of the host's "/". */
function rootPropagation(): string {
  const line = readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[4] === "/")!;
  const f = line.split(" ");
  return f.slice(6, f.indexOf("-")).join(" ");
}

function bundleWithoutMountNs(args: string[]): TestBundle {
  const spec = defaultSpec(args);
  withoutMountNs(spec);
  const b = makeBundle(spec);
  bundles.push(b);
  // Only in the rootfs: the container reads it, the host's / has no such file.
  writeFileSync(join(b.rootfs, "marker"), "rootfs of this bundle\n");
  return b;
}

describe.skipIf(!canRunContainers)(`no mount namespace${SKIP_REASON}`, () => {
  test("runs in its rootfs with proc mounted; the mounts live on the host until delete removes every one", async () => {
    const propagation = rootPropagation();
    const b = bundleWithoutMountNs(["sh", "-c", "cat /marker; ls /proc/self/ns/pid >/dev/null && echo proc; exec sleep 100"]);
    expect(mountsUnder(b.dir)).toEqual([]);
    const id = uniqueId("nomnt");
    await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    try {
      const during = mountsUnder(b.dir);
      // The rootfs bind and the config's mounts (proc, dev, devpts, shm, mqueue, sys, cgroup...) under it.
      expect(during[0]).toStartWith(`${b.rootfs} `);
      expect(during.some((m) => m.startsWith(`${b.rootfs}/proc `))).toBe(true);
      expect(during.length).toBeGreaterThan(5);
      // Private: nothing under the bind propagates anywhere.
      for (const m of during) expect(m).not.toMatch(/ (shared|master):\d+/);
      expect(rootPropagation()).toBe(propagation);
      await bunrunc.start({ root: b.root, id });
    } finally {
      await bunrunc.delete({ root: b.root, id, force: true });
    }
    expect(mountsUnder(b.dir)).toEqual([]);
    expect(rootPropagation()).toBe(propagation);
  });

  test("/bin/true runs and sees its rootfs (library run), nothing left mounted", async () => {
    const r = await run("cat /marker; true", (s, b) => {
      withoutMountNs(s);
      writeFileSync(join(b.rootfs, "marker"), "rootfs of this bundle\n");
    });
    expect(r.code).toBe(0);
    expect(r.out).toBe("rootfs of this bundle\n");
    expect(mountsUnder(r.b.dir)).toEqual([]);
  });

  test("a create that fails after the mounts removes them too", async () => {
    const b = bundleWithoutMountNs(["/no/such/binary"]);
    const err = await bunrunc.create({ root: b.root, id: uniqueId("nomnt"), bundle: b.bundle }).catch((e) => e as Error);
    expect(String((err as Error).message)).toContain("/no/such/binary");
    expect(mountsUnder(b.dir)).toEqual([]);
  });

  test("rootfsPropagation without a mount namespace is refused in one line, nothing mounted", async () => {
    const spec = defaultSpec(["true"]);
    withoutMountNs(spec);
    spec.linux!.rootfsPropagation = "shared";
    const b = makeBundle(spec);
    bundles.push(b);
    const err = await bunrunc.create({ root: b.root, id: uniqueId("nomnt"), bundle: b.bundle }).catch((e) => e as Error);
    expect((err as Error).message).toBe("create: linux.rootfsPropagation: needs a mount namespace (linux.namespaces has none, and bunrunc does not change the host's mount propagation)");
    expect(mountsUnder(b.dir)).toEqual([]);
  });
});

describe.skipIf(!canRunFront)(`no mount namespace through dist/bunrunc${FRONT_SKIP}`, () => {
  for (const path of PATHS) {
    pathTest(path)(`${path}${pathSkip(path)}: run /bin/true sees its rootfs; after delete no mount of it remains`, () => {
      const b = bundleWithoutMountNs(["sh", "-c", "cat /marker && /bin/true"]);
      if (path === "served") serverUp(b.root);
      const r = front(path, ["--root", b.root, "run", "--bundle", b.bundle, uniqueId("nomnt")]);
      expect(r).toMatchObject({ code: 0, stdout: "rootfs of this bundle\n" });
      expect(mountsUnder(b.dir)).toEqual([]);
    });
  }
});

describe.skipIf(!canRunContainers)(`exec without a mount namespace${SKIP_REASON}`, () => {
  test("exec runs in the container's rootfs (chrooted like its init), not the host's /", async () => {
    const b = bundleWithoutMountNs(["sleep", "100"]);
    const id = uniqueId("nomnt");
    await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    try {
      await bunrunc.start({ root: b.root, id });
      // /dev/shm is the container's tmpfs, mounted under the rootfs bind: the host reads it there.
      const code = await bunrunc.exec({ root: b.root, id, args: ["sh", "-c", "(cat /marker; pwd) > /dev/shm/exec-out"] });
      expect(code).toBe(0);
      expect(readFileSync(join(b.rootfs, "dev/shm/exec-out"), "utf8")).toBe("rootfs of this bundle\n/\n");
    } finally {
      await bunrunc.delete({ root: b.root, id, force: true });
    }
    expect(mountsUnder(b.dir)).toEqual([]);
  });
});
