// A runtime killed while the init (or the clone3 child before it) waits for it: the wait sees EOF
// on the sync socket and the process exits by itself, at every point it waits: the user namespace
// maps, the Setup stop, the Hooks stop, and after CREATED until the runtime says the container is
// recorded. Once told, the init outlives its creator (the created state) and a start still runs
// it. The runtime is fixtures/stop-driver.ts, killed with SIGKILL where it stopped. And what a
// create killed half way leaves: a "creating" record that state, list, start and delete read.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ffi from "../../src/ffi.ts";
import * as bunrunc from "../../src/lib/index.ts";
import { LOCK_WAIT_MS_MAX, setLockWaitMsMax } from "../../src/state/store.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, SKIP_REASON } from "./container-helper.ts";

const DRIVER = resolve(import.meta.dir, "fixtures/stop-driver.ts");
const RUN_DRIVER = resolve(import.meta.dir, "fixtures/run-driver.ts");
const EXIT_WAIT_MS = 5_000;
const bundles: TestBundle[] = [];
const inits: { pid: number; startTime: string }[] = [];

beforeAll(() => {
  // The killed runtime's orphan comes to us (not to the host's pid 1): we see it exit and reap it.
  if (canRunContainers) ffi.setChildSubreaper();
});
afterEach(() => {
  for (const i of inits.splice(0)) {
    if (alive(i.pid, i.startTime)) process.kill(i.pid, "SIGKILL");
    reap(i.pid);
  }
  for (const b of bundles.splice(0)) b.cleanup();
});

function alive(pid: number, startTime: string): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return f[0] !== "Z" && f[0] !== "X" && f[19] === startTime;
  } catch {
    return false;
  }
}

/** Reaps `pid` once it has exited, when it came to us. */
function reap(pid: number): void {
  for (let i = 0; i < 500; i++) {
    let fd: number;
    try {
      fd = ffi.pidfdOpen(pid);
    } catch {
      return; // gone (reaped)
    }
    try {
      if (ffi.waitPidfd(fd, true)) return;
    } catch {
      return; // not our child
    } finally {
      ffi.close(fd);
    }
    Bun.sleepSync(10);
  }
}

async function exitsBySelf(pid: number, startTime: string): Promise<boolean> {
  const deadline = performance.now() + EXIT_WAIT_MS;
  while (alive(pid, startTime)) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(5);
  }
  return true;
}

/** Runs the driver up to `stopAt`, SIGKILLs it there; the init it left (pid + start time). */
async function killedAt(stopAt: string, edit: (s: Spec) => void = () => {}): Promise<{ pid: number; startTime: string; b: TestBundle }> {
  const spec = defaultSpec(["sh", "-c", "echo started > /started"]);
  spec.root!.readonly = false;
  edit(spec);
  const b = makeBundle(spec);
  bundles.push(b);
  const p = Bun.spawn([process.execPath, DRIVER, JSON.stringify({ bundle: b.bundle, fifo: join(b.dir, "exec.fifo"), stopAt })], { stdout: "pipe", stderr: "pipe" });
  const reader = p.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the driver stopped without a word: ${await new Response(p.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  const init = JSON.parse(out) as { pid: number; startTime: string };
  inits.push(init);
  expect(alive(init.pid, init.startTime)).toBe(true);
  p.kill("SIGKILL");
  await p.exited;
  reader.releaseLock();
  return { ...init, b };
}

describe.skipIf(!canRunContainers)(`a runtime killed while the init waits for it${SKIP_REASON}`, () => {
  test("at the clone3 child's wait for the user namespace maps: the child exits", async () => {
    const { pid, startTime } = await killedAt("userns", (s) => {
      s.linux!.namespaces!.push({ type: "user" });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    expect(await exitsBySelf(pid, startTime)).toBe(true);
  });

  test("at the Setup stop: the init exits", async () => {
    const { pid, startTime } = await killedAt("setup");
    expect(await exitsBySelf(pid, startTime)).toBe(true);
  });

  test("at the Hooks stop: the init exits", async () => {
    const { pid, startTime } = await killedAt("hooks", (s) => {
      s.hooks = { createRuntime: [{ path: "/bin/true" }] };
    });
    expect(await exitsBySelf(pid, startTime)).toBe(true);
  });

  test("after CREATED, before the runtime said the container is recorded: the init exits", async () => {
    const { pid, startTime } = await killedAt("created");
    expect(await exitsBySelf(pid, startTime)).toBe(true);
  });

  test("after the runtime said it is recorded: the init outlives it, waiting for start, and start runs it", async () => {
    const { pid, startTime, b } = await killedAt("recorded");
    expect(alive(pid, startTime)).toBe(true);
    const fd = openSync(join(b.dir, "exec.fifo"), constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fd, new Uint8Array([0]));
    closeSync(fd);
    expect(await exitsBySelf(pid, startTime)).toBe(true);
    expect(existsSync(join(b.rootfs, "started"))).toBe(true);
  });
});

describe.skipIf(!canRunContainers)(`a create killed half way${SKIP_REASON}`, () => {
  test('its record reads "creating" while its creator lives, "stopped" after; start refuses it, delete removes everything', async () => {
    // The createRuntime hook holds the create at the init's Hooks stop, where the record names the init.
    const spec = defaultSpec(["true"]);
    const b = makeBundle(spec);
    bundles.push(b);
    const hookPid = join(b.dir, "hook.pid");
    spec.hooks = { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", `echo $$ > ${hookPid}.tmp && mv ${hookPid}.tmp ${hookPid}; exec sleep 100`] }] };
    b.writeSpec(spec);
    const id = uniqueId("half");
    const root = b.root;
    const creator = Bun.spawn([process.execPath, RUN_DRIVER, JSON.stringify({ root, id, bundle: b.bundle, detach: true })], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 1000 && !existsSync(hookPid); i++) await Bun.sleep(5);
    const hook = Number(readFileSync(hookPid, "utf8"));
    const record = JSON.parse(readFileSync(join(root, id, "state.json"), "utf8"));
    inits.push({ pid: record.pid, startTime: record.bunrunc.initStartTime });
    try {
      expect(record.status).toBe("creating");
      expect(record.bunrunc.creator.pid).toBe(creator.pid);
      expect(bunrunc.state({ root, id })).toMatchObject({ id, status: "creating", pid: record.pid });
      expect(bunrunc.list({ root }).map((c) => [c.id, c.status])).toEqual([[id, "creating"]]);
      // The creator holds the container's lock for its whole create: start and delete wait for
      // it (the library verbs lock); told not to wait, they say so and touch nothing.
      setLockWaitMsMax(0);
      try {
        await expect(bunrunc.start({ root, id })).rejects.toThrow(`container ${id}: another bunrunc operation holds it`);
        await expect(bunrunc.delete({ root, id })).rejects.toThrow(`container ${id}: another bunrunc operation holds it`);
      } finally {
        setLockWaitMsMax(LOCK_WAIT_MS_MAX);
      }
      expect(bunrunc.state({ root, id }).status).toBe("creating");
    } finally {
      creator.kill("SIGKILL");
      await creator.exited;
      process.kill(hook, "SIGKILL");
    }
    // Its runtime gone, the init at the Hooks stop exits; what is left reads stopped.
    expect(await exitsBySelf(record.pid, record.bunrunc.initStartTime)).toBe(true);
    expect(bunrunc.state({ root, id })).toMatchObject({ status: "stopped", pid: 0 });
    const cgroups = Object.values(record.bunrunc.cgroupPaths as Record<string, string>);
    expect(cgroups.some((d) => existsSync(d))).toBe(true);
    await bunrunc.delete({ root, id });
    expect(existsSync(join(root, id))).toBe(false);
    expect(cgroups.filter((d) => existsSync(d))).toEqual([]);
  });
});
