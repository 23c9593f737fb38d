// checkpoint and restore through CRIU, as engines call them: a busybox container printing a
// counter on a pipe is dumped and restored (--detach), and the restored process prints on the
// restore caller's pipe the number after the last one it printed before the dump. CRIU runs
// where `criu check` passes (the VM tier's Debian 6.1 kernel); elsewhere these tests skip saying
// why, and the one below them checks the error line a user gets there.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import * as lib from "../../src/lib/index.ts";
import { call, COUNTER, counterBundle, criuSkipReason, detached, FRONT, ttyKeeper, type Started } from "./helpers.ts";

const SKIP = criuSkipReason();
const T = 180_000;
const bundles: TestBundle[] = [];
const running: { root: string; id: string }[] = [];
const keepers: { kill(): void }[] = [];

function fresh(): TestBundle {
  const b = counterBundle();
  bundles.push(b);
  return b;
}

async function runCounter(b: TestBundle, id: string): Promise<Started> {
  const s = await detached(["--root", b.root, "run", "-d", id], b.dir, b.bundle);
  if (s.code !== 0) throw new Error(`run -d failed: ${s.stderr}`);
  running.push({ root: b.root, id });
  return s;
}

async function restoreDetached(b: TestBundle, id: string, images: string, extra: string[] = []): Promise<Started> {
  const s = await detached(["--root", b.root, "restore", "-d", "--image-path", images, "--bundle", b.bundle, ...extra, id], b.dir);
  if (s.code !== 0) throw new Error(`restore failed: ${s.stderr}`);
  running.push({ root: b.root, id });
  return s;
}

async function checkpoint(b: TestBundle, id: string, images: string, extra: string[] = []): Promise<void> {
  const r = await call(["--root", b.root, "checkpoint", "--image-path", images, ...extra, id]);
  if (r.code !== 0) throw new Error(`checkpoint failed (${r.code}): ${r.stderr}`);
}

/** The container's status through the library (a CLI call is a Bun start: seconds under TCG). */
async function status(b: TestBundle, id: string): Promise<string> {
  try {
    return lib.state({ root: b.root, id }).status;
  } catch (e) {
    return `gone: ${(e as Error).message}`;
  }
}

describe.skipIf(Boolean(SKIP))(`checkpoint and restore through CRIU${SKIP ? ` [skipped: ${SKIP}]` : ""}`, () => {
  test("a checkpointed counter is gone, and restored it counts on from where it stopped", async () => {
    const b = fresh();
    const id = uniqueId("ck");
    const images = join(b.dir, "images");
    const c = await runCounter(b, id);
    await c.out.waitFor("three numbers", () => c.out.numbers().length >= 3);
    await checkpoint(b, id, images);
    // The dump killed it: its stdout pipe ends, and the container is deleted.
    await c.out.waitFor("the counter's pipe to end", () => c.out.done);
    expect(await status(b, id)).toStartWith("gone");
    expect(readdirSync(images)).toContain("descriptors.json");
    const last = c.out.numbers().at(-1)!;
    // Restore reads the bundle's config: its prestart/createRuntime hooks run before the tree resumes.
    const hookOut = join(b.dir, "hook-");
    const spec = defaultSpec(COUNTER);
    const hook = (kind: string) => ({ path: "/bin/sh", args: ["sh", "-c", `cat > ${hookOut}${kind}.json`] });
    spec.hooks = { prestart: [hook("prestart")], createRuntime: [hook("createRuntime")] };
    b.writeSpec(spec);
    const r = await restoreDetached(b, id, images);
    await r.out.waitFor("two numbers after restore", () => r.out.numbers().length >= 2);
    expect(r.out.numbers().slice(0, 2)).toEqual([last + 1, last + 2]);
    const state = lib.state({ root: b.root, id });
    expect(state.status).toBe("running");
    for (const kind of ["prestart", "createRuntime"]) {
      const seen = JSON.parse(readFileSync(`${hookOut}${kind}.json`, "utf8"));
      expect({ kind, id: seen.id, pid: seen.pid, bundle: seen.bundle }).toEqual({ kind, id, pid: state.pid, bundle: b.bundle });
    }
  }, T);

  test("--leave-running keeps the counter going; its images restore into a new id, twice", async () => {
    const b = fresh();
    const id = uniqueId("lr");
    const images = join(b.dir, "images");
    const c = await runCounter(b, id);
    await c.out.waitFor("three numbers", () => c.out.numbers().length >= 3);
    const before = c.out.numbers().at(-1)!;
    await checkpoint(b, id, images, ["--leave-running"]);
    const after = c.out.numbers().length;
    await c.out.waitFor("the original to count on", () => c.out.numbers().length >= after + 2);
    expect(await status(b, id)).toBe("running");
    const copy = uniqueId("lr-copy");
    const r = await restoreDetached(b, copy, images);
    await r.out.waitFor("two numbers from the copy", () => r.out.numbers().length >= 2);
    const [first, second] = r.out.numbers();
    // The dump happened after `before` was printed and before the checkpoint call returned.
    expect(first!).toBeGreaterThan(before);
    expect(first!).toBeLessThanOrEqual(c.out.numbers()[after - 1]! + 1);
    expect(second).toBe(first! + 1);
    // The same images once more, under another id: the same process again.
    const again = await restoreDetached(b, uniqueId("lr-again"), images);
    await again.out.waitFor("a number from the second copy", () => again.out.numbers().length >= 1);
    expect(again.out.numbers()[0]).toBe(first!);
    expect(await status(b, id)).toBe("running");
    expect(await status(b, copy)).toBe("running");
  }, T);

  test("pre-dump, then a checkpoint on top of it, restores", async () => {
    const b = fresh();
    const id = uniqueId("pd");
    const c = await runCounter(b, id);
    await c.out.waitFor("three numbers", () => c.out.numbers().length >= 3);
    const pre = join(b.dir, "pre");
    const images = join(b.dir, "images");
    await checkpoint(b, id, pre, ["--pre-dump"]);
    expect(await status(b, id)).toBe("running");
    const n = c.out.numbers().length;
    await c.out.waitFor("the counter to go on after the pre-dump", () => c.out.numbers().length >= n + 2);
    await checkpoint(b, id, images, ["--parent-path", "../pre"]);
    await c.out.waitFor("the counter's pipe to end", () => c.out.done);
    const last = c.out.numbers().at(-1)!;
    const r = await restoreDetached(b, id, images);
    await r.out.waitFor("two numbers after restore", () => r.out.numbers().length >= 2);
    expect(r.out.numbers().slice(0, 2)).toEqual([last + 1, last + 2]);
  }, T);

  test("a container with a terminal (console socket) is checkpointed and restored onto a new pty", async () => {
    const b = counterBundle({ terminal: true });
    bundles.push(b);
    const id = uniqueId("tty");
    const images = join(b.dir, "images");
    const first = await ttyKeeper(join(b.dir, "console-1.sock"));
    keepers.push(first.proc);
    const r1 = await call(["--root", b.root, "run", "-d", "--console-socket", join(b.dir, "console-1.sock"), id], b.bundle);
    if (r1.code !== 0) throw new Error(`run -d failed: ${r1.stderr}`);
    running.push({ root: b.root, id });
    await first.out.waitFor("three numbers on the terminal", () => first.out.numbers().length >= 3);
    await checkpoint(b, id, images);
    await first.out.waitFor("the terminal to close", () => first.out.done);
    const last = first.out.numbers().at(-1)!;
    const second = await ttyKeeper(join(b.dir, "console-2.sock"));
    keepers.push(second.proc);
    const r2 = await call(["--root", b.root, "restore", "-d", "--console-socket", join(b.dir, "console-2.sock"), "--image-path", images, "--bundle", b.bundle, id]);
    if (r2.code !== 0) throw new Error(`restore failed: ${r2.stderr}`);
    await second.out.waitFor("two numbers on the new terminal", () => second.out.numbers().length >= 2);
    expect(second.out.numbers().slice(0, 2)).toEqual([last + 1, last + 2]);
  }, T);

  test("restore refuses images that do not exist, in one line", async () => {
    const b = fresh();
    const missing = join(b.dir, "no-images");
    const r = await call(["--root", b.root, "restore", "-d", "--image-path", missing, "--bundle", b.bundle, uniqueId("rf-new")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("--image-path");
    expect(r.stderr).toContain("does not exist");
  }, T);
});

// Where CRIU is installed but cannot run (this host's kernel), a checkpoint says so in one line.
const criuButNoCheck = Boolean(Bun.which("criu")) && SKIP.startsWith("criu check fails");
describe.skipIf(!criuButNoCheck)(`checkpoint where criu check fails${criuButNoCheck ? "" : " [skipped: criu is missing here, or criu check passes]"}`, () => {
  test("checkpoint fails in one line naming criu check, and leaves the container running", async () => {
    const b = fresh();
    const id = uniqueId("nc");
    await runCounter(b, id);
    const r = await call(["--root", b.root, "checkpoint", "--image-path", join(b.dir, "images"), id]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("criu cannot run on this kernel (criu check:");
    expect(await status(b, id)).toBe("running");
  }, T);
});

test("checkpoint without criu on PATH says so in one line", async () => {
  if (process.getuid?.() !== 0 || !existsSync(FRONT)) return; // root-only verbs; nothing to check otherwise
  const b = fresh();
  const r = await call(["--root", b.root, "--criu", join(b.dir, "no-such-criu"), "checkpoint", "--image-path", join(b.dir, "i"), "any-id"]);
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toContain("is not installed; install criu or name it with --criu");
}, T);

afterAll(async () => {
  for (const { root, id } of running) await lib.delete({ root, id, force: true }).catch(() => {});
  for (const k of keepers) k.kill();
  for (const b of bundles) b.cleanup();
});
