// The rootfs: rootfsPropagation as the container's mountinfo shows it (for "/" and for a bind of
// a host mount that is shared), and --no-pivot (MS_MOVE + chroot) with the host's proc hidden.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canRunContainers, cleanRuns, SKIP_REASON } from "./container-helper.ts";

const run = cleanRuns();

/** Optional fields (shared:N, master:N, unbindable) of the mountinfo line for `point`. */
function optional(mountinfo: string, point: string): string[] {
  const line = mountinfo.split("\n").find((l) => l.split(" ")[4] === point);
  if (!line) throw new Error(`${point} is not a mount point in:\n${mountinfo}`);
  const f = line.split(" ");
  return f.slice(6, f.indexOf("-"));
}

/** Makes `dir` a shared mount on the host (its own peer group); returns the group id. */
function sharedHostMount(dir: string): string {
  mkdirSync(dir, { recursive: true });
  expect(Bun.spawnSync(["mount", "--bind", dir, dir]).exitCode).toBe(0);
  expect(Bun.spawnSync(["mount", "--make-shared", dir]).exitCode).toBe(0);
  const group = optional(readFileSync("/proc/self/mountinfo", "utf8"), dir).find((o) => o.startsWith("shared:"));
  return group!.slice("shared:".length);
}

describe.skipIf(!canRunContainers)(`rootfs${SKIP_REASON}`, () => {
  // [rootfsPropagation, fields of "/", fields of a bind of a shared host mount (N = its group)]
  const cases: [string | undefined, RegExp, RegExp][] = [
    [undefined, /^$/, /^master:N$/],
    ["rslave", /^$/, /^master:N$/],
    ["rprivate", /^$/, /^$/],
    ["rshared", /^shared:\d+$/, /^shared:N$/],
    // (runbindable would make every host path unbindable, so no bind mount could be made: as runc.)
    ["unbindable", /^unbindable$/, /^shared:N$/],
    // Not recursive: only "/" changes, the bound mount keeps the host's peer group.
    ["private", /^$/, /^shared:N$/],
  ];
  for (const [propagation, root, bound] of cases) {
    test(`rootfsPropagation ${propagation ?? "(default rslave)"}: "/" ${root.source}, a shared host bind ${bound.source}`, async () => {
      let shared = "";
      let group = "";
      try {
        const r = await run("cat /proc/self/mountinfo", (s, b) => {
          shared = join(b.dir, "shared");
          group = sharedHostMount(shared);
          s.mounts!.push({ destination: "/shared", type: "bind", source: shared, options: ["rbind"] });
          if (propagation) s.linux!.rootfsPropagation = propagation as never;
        });
        expect(r.code).toBe(0);
        expect(optional(r.out, "/").join(" ")).toMatch(root);
        expect(optional(r.out, "/shared").join(" ")).toMatch(new RegExp(bound.source.replace("N", group)));
      } finally {
        if (shared) Bun.spawnSync(["umount", shared]);
      }
    });
  }

  test("--no-pivot: the rootfs is moved onto / (MS_MOVE + chroot) and the process runs there", async () => {
    const r = await run("head -1 /etc/passwd; busybox cut -d' ' -f5 /proc/self/mountinfo | grep -cx /", () => {}, { run: { noPivot: true } });
    expect(r.code).toBe(0);
    expect(r.out).toBe("root:x:0:0:root:/root:/bin/sh\n1\n");
  });

  // A process in a new user namespace may mount procfs only if a fully visible one is in its
  // mount namespace. The container's own /proc is not (its masks get locked in the copy); with
  // --no-pivot the host's /proc would still be there under the chroot unless the runtime
  // detached it first (runc's "must not expose bare /proc" check).
  for (const noPivot of [false, true]) {
    test(`${noPivot ? "--no-pivot" : "pivot_root"}: no bare host /proc lets a nested user namespace mount procfs`, async () => {
      const r = await run("busybox unshare -mrpf sh -c 'mount -t proc none /proc && echo MOUNTED'; echo rc=$?", (s) => {
        // Mapping root in the nested namespace needs CAP_SETFCAP (Linux 5.12+).
        const caps = ["CAP_SETFCAP", "CAP_KILL"];
        s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
      }, { run: { noPivot } });
      expect(r.code).toBe(0);
      expect(r.out).not.toContain("MOUNTED");
      expect(r.out).toContain("permission denied");
    });
  }
});
