// The spec runs poststart hooks after the user's process is executed, not merely released: start
// waits for the init's exec before running them. A startContainer hook that sleeps holds the init
// between its release and its exec; the poststart hook then reads what /proc/PID/exe names.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, SKIP_REASON } from "./container-helper.ts";

const bundles: TestBundle[] = [];
afterEach(() => {
  for (const b of bundles.splice(0)) b.cleanup();
});

describe.skipIf(!canRunContainers)(`poststart hooks run after the process is executed${SKIP_REASON}`, () => {
  test("with a slow startContainer hook, the poststart hook sees the container's program, not bunrunc-init", async () => {
    const spec = defaultSpec(["sleep", "1000"]);
    const b = makeBundle(spec);
    bundles.push(b);
    const mark = join(b.dir, "exe-at-poststart");
    spec.hooks = {
      startContainer: [{ path: "/bin/sh", args: ["sh", "-c", "sleep 0.5"] }],
      poststart: [{ path: "/bin/sh", args: ["sh", "-c", `pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'); readlink /proc/$pid/exe > ${mark}`] }],
    };
    b.writeSpec(spec);
    const id = uniqueId("poststart");
    await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    try {
      await bunrunc.start({ root: b.root, id });
      const exe = readFileSync(mark, "utf8").trim();
      expect(exe).not.toContain("bunrunc-init");
      expect(exe).toMatch(/^\/bin\/(busybox|sleep)$/);
    } finally {
      await bunrunc.del({ root: b.root, id, force: true });
    }
  });
});
