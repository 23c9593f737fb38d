// The container lock is flock(2) on `<root>/.<id>.lock` (src/state/store.ts), taken inside the
// library verbs: two library calls on one container from processes in two different network
// namespaces serialize. Shown by order, not by time: the first call (start) is held inside its
// lock by a poststart hook; the second (kill) says it found the lock held (BUNRUNC_TIMING's
// `phase lock.busy`) and cannot finish until the test lets the hook end.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, SKIP_REASON } from "../lib/container-helper.ts";
import * as bunrunc from "../../src/lib/index.ts";

const LIB = resolve(import.meta.dir, "../../src/lib/index.ts");
const UNSHARE = ["/usr/bin/unshare", "/bin/unshare"].find((p) => existsSync(p));
const bundles: TestBundle[] = [];
afterEach(() => bundles.splice(0).forEach((b) => b.cleanup()));

/** A Bun script, run in a new network namespace, that makes one library call and records it. */
function callInNewNetns(b: TestBundle, id: string, name: string, call: string, env: Record<string, string> = {}) {
  const script = join(b.dir, `${name}.ts`);
  writeFileSync(
    script,
    `import * as bunrunc from ${JSON.stringify(LIB)};
import { appendFileSync, readlinkSync } from "node:fs";
const [root, id, order] = process.argv.slice(2);
console.log(readlinkSync("/proc/self/ns/net"));
${call};
appendFileSync(order, ${JSON.stringify(`${name}-done\n`)});
`,
  );
  return Bun.spawn([UNSHARE!, "-n", process.execPath, script, b.root, id, join(b.dir, "order")], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await Bun.sleep(10);
}

/** Reads `stream` until its text contains `needle` (true) or it ends without it (false). */
async function sees(stream: ReadableStream<Uint8Array>, needle: string, into: string[]): Promise<boolean> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      into.push(dec.decode(value, { stream: true }));
      if (into.join("").includes(needle)) return true;
    }
  } finally {
    reader.releaseLock();
  }
}

describe.skipIf(!canRunContainers || !UNSHARE)(`container lock across network namespaces${UNSHARE ? SKIP_REASON : " (skipped: no unshare(1))"}`, () => {
  test("start held by its poststart hook makes a kill from another network namespace wait, then the kill proceeds", async () => {
    const spec = defaultSpec(["sleep", "300"]);
    const b = makeBundle(spec);
    bundles.push(b);
    const id = uniqueId("netns-lock");
    const started = join(b.dir, "hook-started");
    const release = join(b.dir, "release");
    const order = join(b.dir, "order");
    writeFileSync(order, "");
    spec.hooks = {
      poststart: [{ path: "/bin/sh", args: ["sh", "-c", `: > ${started}; while [ ! -e ${release} ]; do sleep 0.01; done; echo hook-done >> ${order}`] }],
    };
    b.writeSpec(spec);
    await bunrunc.create({ root: b.root, id: id, bundle: b.bundle });
    try {
      const first = callInNewNetns(b, id, "start", "await bunrunc.start({ root, id })");
      await until(() => existsSync(started) || first.exitCode !== null);
      expect(first.exitCode).toBeNull(); // start is inside its lock, in the hook

      const second = callInNewNetns(b, id, "kill", 'await bunrunc.kill({ root, id, signal: "KILL" })', { BUNRUNC_TIMING: "1" });
      const err: string[] = [];
      // The kill found the lock held: it waits for it (it has not returned: nothing in the order).
      expect(await sees(second.stderr, "phase lock.busy", err)).toBe(true);
      expect(readFileSync(order, "utf8")).toBe("");

      writeFileSync(release, "");
      const [out1, out2, code1, code2] = await Promise.all([new Response(first.stdout).text(), new Response(second.stdout).text(), first.exited, second.exited]);
      expect([code1, code2]).toEqual([0, 0]);
      // The hook ended (and start with it) before the kill could take the lock and finish.
      expect(readFileSync(order, "utf8")).toBe("hook-done\nstart-done\nkill-done\n");
      // Two network namespaces, neither the test's own.
      const own = readlinkSync("/proc/self/ns/net");
      const [ns1, ns2] = [out1.trim(), out2.trim()];
      expect(ns1).toMatch(/^net:\[\d+\]$/);
      expect(new Set([own, ns1, ns2]).size).toBe(3);
    } finally {
      if (!existsSync(release)) writeFileSync(release, "");
      await bunrunc.delete({ root: b.root, id: id, force: true });
    }
  });
});
