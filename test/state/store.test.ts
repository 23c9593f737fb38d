// The state store under contention from separate processes: atomic replacement (never a torn or
// missing state.json), the per-container lock (no lost read-modify-write updates), and the lock
// freed by the kernel when its holder is SIGKILLed.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { createContainerDir, listContainerIds, lockContainer, readStateFile, validateId, writeStateFile } from "../../src/state/store.ts";
import { tempDir, uniqueId } from "../cli/run-cli.ts";

const WRITER = join(import.meta.dir, "store-writer.ts");
const WRITERS = 50;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const id = uniqueId("store");
  createContainerDir(t.dir, id);
  return { root: t.dir, id, file: join(t.dir, id, "state.json") };
}

function spawnWriters(root: string, id: string, mode: string, rounds: number) {
  const procs = Array.from({ length: WRITERS }, () => Bun.spawn([process.execPath, WRITER, root, id, mode, String(rounds)], { stdout: "ignore", stderr: "pipe" }));
  cleanups.push(() => Promise.all(procs.map((p) => (p.kill(9), p.exited))));
  return procs;
}

describe("state.json under 50 concurrent writer processes", () => {
  test("atomic replacement: a reader always finds a whole file; no temp files are left", async () => {
    const { root, id, file } = setup();
    writeStateFile(root, id, { writer: 0, seq: 0, padLength: 0, pad: "" });
    const procs = spawnWriters(root, id, "write", 20);
    let done = false;
    const exited = Promise.all(procs.map((p) => p.exited)).then((codes) => ((done = true), codes));
    let reads = 0;
    const writersSeen = new Set<number>();
    while (!done) {
      const s = JSON.parse(readFileSync(file, "utf8")); // throws on a torn or missing file
      expect(s.pad.length).toBe(s.padLength);
      writersSeen.add(s.writer);
      reads++;
      await Bun.sleep(0);
    }
    expect(await exited).toEqual(Array(WRITERS).fill(0));
    expect(reads).toBeGreaterThan(10);
    expect(writersSeen.size).toBeGreaterThan(1);
    const last = readStateFile<{ seq: number; pad: string; padLength: number }>(root, id);
    expect(last.pad.length).toBe(last.padLength);
    expect(readdirSync(join(root, id))).toEqual(["state.json"]);
  }, 60_000);

  test("read-modify-write under the container lock: 50 x 10 increments, none lost", async () => {
    const { root, id } = setup();
    writeStateFile(root, id, { count: 0, seen: [] });
    const procs = spawnWriters(root, id, "update", 10);
    const codes = await Promise.all(procs.map((p) => p.exited));
    const errors = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
    expect(errors.filter(Boolean)).toEqual([]);
    expect(codes).toEqual(Array(WRITERS).fill(0));
    const s = readStateFile<{ count: number; seen: string[] }>(root, id);
    expect(s.count).toBe(WRITERS * 10);
    expect(new Set(s.seen).size).toBe(WRITERS * 10);
  }, 60_000);
});

describe("the per-container lock", () => {
  test("waits while held, and is free again the moment the holder is SIGKILLed", async () => {
    const { root, id } = setup();
    const holder = Bun.spawn([process.execPath, WRITER, root, id, "hold"], { stdout: "pipe" });
    cleanups.push(() => (holder.kill(9), holder.exited));
    const reader = holder.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("locked\n");
    await expect(lockContainer(root, id, 200)).rejects.toThrow(`container ${id}: timed out after 200 ms waiting for another bunrunc operation on it`);
    // Another container's lock is independent.
    const other = await lockContainer(root, `${id}-other`, 200);
    other.release();
    holder.kill(9);
    await holder.exited;
    const t0 = performance.now();
    const lock = await lockContainer(root, id, 2000);
    expect(performance.now() - t0).toBeLessThan(500);
    lock.release();
  });
  test("excludes across network namespaces: a holder in a network namespace of its own keeps this process out", async () => {
    const { root, id } = setup();
    const holder = Bun.spawn(["unshare", "--net", process.execPath, WRITER, root, id, "hold"], { stdout: "pipe" });
    cleanups.push(() => (holder.kill(9), holder.exited));
    const reader = holder.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("locked\n");
    await expect(lockContainer(root, id, 200)).rejects.toThrow("timed out after 200 ms");
    holder.kill(9);
    await holder.exited;
    (await lockContainer(root, id, 2000)).release();
  });

  test.skipIf(process.getuid?.() !== 0)("no other user can hold a container's lock: its file is root's, and the old abstract name holds nothing", async () => {
    const { root, id } = setup();
    chmodSync(root, 0o711);
    (await lockContainer(root, id, 200)).release();
    const lockFile = join(root, `.${id}.lock`);
    // What a user holding the abstract name the lock once was would have blocked.
    const hash = new Bun.CryptoHasher("sha256").update(`${realpathSync(root)}\0${id}`).digest("hex");
    const script = `
import os, socket, sys, time
try:
    os.open(${JSON.stringify(lockFile)}, os.O_RDWR)
    print("opened", flush=True)
except OSError as e:
    print(e.strerror, flush=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\\0bunrunc/${hash}")
s.listen(1)
print("bound", flush=True)
time.sleep(30)
`;
    const user = Bun.spawn(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c", script], { stdout: "pipe", stderr: "pipe" });
    cleanups.push(() => (user.kill(9), user.exited));
    const reader = user.stdout.getReader();
    let said = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      said += new TextDecoder().decode(value);
      if (said.includes("bound\n")) break;
    }
    if (!said.includes("bound\n")) said += await new Response(user.stderr).text();
    expect(said).toBe("Permission denied\nbound\n");
    const lock = await lockContainer(root, id, 200);
    lock.release();
  });

  test("the same id under another root is another lock", async () => {
    const a = setup();
    const b = tempDir();
    cleanups.push(b.cleanup);
    const l1 = await lockContainer(a.root, a.id, 100);
    const l2 = await lockContainer(b.dir, a.id, 100);
    l1.release();
    l2.release();
  });
});

describe("layout", () => {
  test("ids are checked before touching the disk; existing ids are refused; list skips non-containers", () => {
    const { root, id } = setup();
    expect(() => createContainerDir(root, id)).toThrow("container with given ID already exists");
    for (const bad of ["../x", "a/b", "..", ""]) expect(() => validateId(bad)).toThrow("invalid container ID format");
    mkdirSync(join(root, "no-state"));
    mkdirSync(join(root, "with-state"));
    writeStateFile(root, "with-state", { id: "with-state" });
    expect(listContainerIds(root)).toEqual(["with-state"]);
    expect(() => readStateFile(root, "no-state")).toThrow("container does not exist");
  });
});
