// Idmapped mounts (runc 1.2+): the `idmap`/`ridmap` mount options with the container's user
// namespace mappings, and mounts[].uidMappings/gidMappings without any user namespace. The
// volume is a directory on the host's filesystem (ext4 here, which idmaps); each case has its
// control, the same mount without the idmapping, showing the owner the kernel shows otherwise.
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ffi from "../../src/ffi.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, uniqueId } from "../helpers/bundle.ts";
import { canRunFront, front, FRONT_SKIP, PATHS, pathSkip, pathTest } from "../helpers/front.ts";
import { canRunContainers, cleanRuns, inUserNs, SKIP_REASON } from "./container-helper.ts";

const run = cleanRuns();
const HOST_ID = 1000;

/** Whether this kernel idmaps a mount of the filesystem the test bundles live on (tmpfs: 6.3+). */
function idmapReason(): string {
  if (!canRunContainers) return SKIP_REASON;
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-test-idmap-"));
  try {
    ffi.close(ffi.idmappedTree(dir, { clone: false, idmap: false }, `0 ${HOST_ID} 1\n`, `0 ${HOST_ID} 1\n`));
    return "";
  } catch (e) {
    const fs = Bun.spawnSync(["stat", "-fc", "%T", dir]).stdout.toString().trim();
    return ` [skipped: this kernel cannot idmap a mount of ${fs} (${(e as Error).message})]`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const IDMAP_SKIP = idmapReason();
const canIdmap = !IDMAP_SKIP;
const OVERFLOW = "65534:65534";

/** A volume dir with one file owned by `owner` on the host. */
function volume(dir: string, owner: number): string {
  const vol = join(dir, "vol");
  mkdirSync(vol, { mode: 0o777 });
  chmodSync(vol, 0o777);
  writeFileSync(join(vol, "f"), "x");
  chownSync(join(vol, "f"), owner, owner);
  return vol;
}

describe("idmapped mounts", () => {
  test.skipIf(!canIdmap)(`idmap with the container's user namespace (0 -> ${HOST_ID}): the host's root-owned file is the container root's, and what root writes is root's on the host${IDMAP_SKIP}`, async () => {
    const r = await run("stat -c %u:%g /vol/f; touch /vol/made-inside; stat -c %u:%g /vol/made-inside", (s, b) => {
      inUserNs(s, b, HOST_ID);
      s.mounts!.push({ destination: "/vol", type: "bind", source: volume(b.dir, 0), options: ["rbind", "idmap"] });
    });
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toEqual(["0:0", "0:0"]);
    const made = statSync(join(r.b.dir, "vol/made-inside"));
    expect([made.uid, made.gid]).toEqual([0, 0]);
  });

  test.skipIf(!canRunContainers)(`control: the same mount without idmap shows the host's root as the overflow id${SKIP_REASON}`, async () => {
    const r = await run("stat -c %u:%g /vol/f", (s, b) => {
      inUserNs(s, b, HOST_ID);
      s.mounts!.push({ destination: "/vol", type: "bind", source: volume(b.dir, 0), options: ["rbind"] });
    });
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(OVERFLOW);
  });

  test.skipIf(!canIdmap)(`uidMappings on the mount, no user namespace: a file owned by host uid ${HOST_ID} shows as 0; without them as ${HOST_ID}${IDMAP_SKIP}`, async () => {
    const mapped = await run("stat -c %u:%g /vol/f", (s, b) => {
      s.mounts!.push({
        destination: "/vol",
        type: "bind",
        source: volume(b.dir, HOST_ID),
        options: ["rbind"],
        uidMappings: [{ containerID: HOST_ID, hostID: 0, size: 1 }],
        gidMappings: [{ containerID: HOST_ID, hostID: 0, size: 1 }],
      });
    });
    expect(mapped.code).toBe(0);
    expect(mapped.out.trim()).toBe("0:0");
    const plain = await run("stat -c %u:%g /vol/f", (s, b) => {
      s.mounts!.push({ destination: "/vol", type: "bind", source: volume(b.dir, HOST_ID), options: ["rbind"] });
    });
    expect(plain.out.trim()).toBe(`${HOST_ID}:${HOST_ID}`);
  });

  test.skipIf(!canRunContainers)(`refused in one line: idmap on a non-bind mount, idmap with no mappings anywhere${SKIP_REASON}`, async () => {
    await expect(run("true", (s) => s.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["idmap"] }))).rejects.toThrow(
      "create: mounts[8]: idmapped mounts must be bind mounts",
    );
    await expect(run("true", (s, b) => s.mounts!.push({ destination: "/vol", type: "bind", source: volume(b.dir, 0), options: ["rbind", "idmap"] }))).rejects.toThrow(
      "create: mounts[8].options: idmap needs uidMappings and gidMappings, on the mount or in linux",
    );
  });

  // The idmapped mount's fd travels to whoever clones the init: the front, when served.
  for (const path of PATHS) {
    // pathTest may already be test.skip (no SO_PEERPIDFD), which takes no skipIf.
    (!canRunFront || !canIdmap ? test.skip : pathTest(path))(`through dist/bunrunc (${path}): idmap with the container's user namespace${pathSkip(path)}${FRONT_SKIP}${IDMAP_SKIP}`, () => {
      const spec = defaultSpec();
      const b = makeBundle(spec);
      try {
        const out = join(b.dir, "out");
        mkdirSync(out, { mode: 0o777 });
        chmodSync(out, 0o777);
        inUserNs(spec, b, HOST_ID);
        spec.mounts!.push({ destination: "/vol", type: "bind", source: volume(b.dir, 0), options: ["rbind", "idmap"] });
        spec.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
        spec.process!.args = ["sh", "-c", "stat -c %u:%g /vol/f > /out/stdout 2>&1"];
        b.writeSpec(spec);
        const r = front(path, ["--root", b.root, "run", "--bundle", b.bundle, uniqueId("idmap")]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(readFileSync(join(out, "stdout"), "utf8").trim()).toBe("0:0");
      } finally {
        b.cleanup();
      }
    });
  }
});
