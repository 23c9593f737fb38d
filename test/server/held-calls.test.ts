// What the resident server holds and what it sends back before Begin (src/server/before-begin.ts):
// calls parked at hooks up to PARKED_MAX, the one past it run directly by its front while other
// callers are still served; a container kept by systemd never served. Real containers, real hooks,
// the server found by its executable; which path a call took is read from --debug's first line
// and the hook's parentage, as test/server/paths.test.ts reads them.
import { afterAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { uniqueId } from "../helpers/bundle.ts";
import { PARKED_MAX } from "../../src/server/before-begin.ts";
import { canRun, CORE, front, SERVED, serverPids, serverUp, SKIP, waitFor } from "./helpers.ts";
import { bundle, cleanupBundles } from "./helpers.ts";

setDefaultTimeout(240_000);
afterAll(() => cleanupBundles());

const FRONT = join(CORE, "../bunrunc");

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The server that ran a call (an older build's may still be up): its pid, from --debug's first line. */
function servingPid(stderr: string): number {
  const m = new RegExp(`${SERVED}, pid (\\d+)`).exec(stderr);
  expect(m).not.toBeNull();
  expect(serverPids()).toContain(Number(m![1]));
  return Number(m![1]);
}

function softNofile(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, "latin1").split("\n").find((l) => l.startsWith("Max open files"))!;
  return Number(line.split(/\s{2,}/)[1]);
}

describe.skipIf(!canRun)(`calls the server holds, and those it sends back before Begin${SKIP}`, () => {
  test(`${PARKED_MAX} hooks that do not end are parked; one more such call runs directly; another caller's run is still served; the server's fds stay bounded`, async () => {
    const slow = bundle(["true"]);
    const release = join(slow.dir, "release");
    const spec = JSON.parse(readFileSync(join(slow.bundle, "config.json"), "utf8"));
    // Each hook writes the pid of the process that started it, then waits for the test's release (60 s at most).
    const mark = join(slow.dir, "started");
    spec.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `echo $PPID > ${mark}.$ID_TAG.tmp; mv ${mark}.$ID_TAG.tmp ${mark}.$ID_TAG; i=0; while [ ! -e ${release} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`], env: [] }] };
    const other = bundle(["true"]);
    serverUp(slow.root);
    const server = servingPid(front(["--debug", "--root", slow.root, "state", "nothing-here"]).stderr);
    const fdsIdle = fdCount(server);
    let fdsAtCap = 0;
    const ids: string[] = [];
    const creates: ReturnType<typeof Bun.spawn>[] = [];
    const logs: string[] = [];
    try {
      for (let i = 0; i <= PARKED_MAX; i++) {
        // One config per call: the hook's tag says which call it belongs to.
        spec.hooks.prestart[0].env = [`ID_TAG=${i}`, "PATH=/usr/bin:/bin"];
        writeFileSync(join(slow.bundle, "config.json"), JSON.stringify(spec));
        const id = uniqueId(`held${i}`);
        const log = join(slow.dir, `create.${i}.log`);
        ids.push(id);
        logs.push(log);
        creates.push(Bun.spawn([FRONT, "--debug", "--log", log, "--root", slow.root, "create", "-b", slow.bundle, id], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }));
        waitFor(() => existsSync(`${mark}.${i}`), 60_000);
        if (i === PARKED_MAX - 1) fdsAtCap = fdCount(server);
      }
      const parentOf = (i: number) => Number(readFileSync(`${mark}.${i}`, "utf8").trim());
      expect(servingPid(readFileSync(logs[0]!, "utf8"))).toBe(server);
      // The first PARKED_MAX: served, each hook the server's child.
      for (let i = 0; i < PARKED_MAX; i++) {
        expect(readFileSync(logs[i]!, "utf8").split("\n")[0]).toContain(SERVED);
        expect(parentOf(i)).toBe(server);
      }
      // The one past the cap: sent back before Begin, run directly (its hook the child of the
      // bunrunc-core its front exec'd: the same pid).
      expect(readFileSync(logs[PARKED_MAX]!, "utf8")).toContain("level=debug");
      expect(readFileSync(logs[PARKED_MAX]!, "utf8")).not.toContain(SERVED);
      expect(parentOf(PARKED_MAX)).toBe(creates[PARKED_MAX]!.pid);
      // Another caller's whole run, served, while every hook still waits.
      const r = front(["--debug", "--root", other.root, "run", "-b", other.bundle, uniqueId("held-other")]);
      expect(r.code).toBe(0);
      expect(r.stderr.split("\n")[0]).toContain(SERVED);
      expect(existsSync(release)).toBe(false);
      // What one parked call holds, and what the server has taken on since the cap: less than that.
      const perParked = (fdsAtCap - fdsIdle) / PARKED_MAX;
      expect(perParked).toBeGreaterThan(0);
      expect(fdCount(server) - fdsAtCap).toBeLessThan(perParked);
      expect(fdsAtCap).toBeLessThan(softNofile(server));
      writeFileSync(release, "");
      for (const c of creates) expect(await c.exited).toBe(0);
    } finally {
      writeFileSync(release, "");
      for (const c of creates) c.kill(9);
      for (const id of ids) front(["--root", slow.root, "delete", "-f", id]);
    }
  });

  test("a call on a container whose state names a systemd unit, typed without --systemd-cgroup, is sent back to its front before Begin", () => {
    // The container is made normally (cgroupfs); the test then writes into its state what a
    // --systemd-cgroup create records (as root may), and takes it out again before deleting it.
    const b = bundle(["sleep", "100"]);
    serverUp(b.root);
    const id = uniqueId("sdunit");
    expect(front(["--root", b.root, "create", "-b", b.bundle, id], { detaches: true }).code).toBe(0);
    const statePath = join(b.root, id, "state.json");
    const saved = readFileSync(statePath, "utf8");
    try {
      const killCont = () => front(["--debug", "--root", b.root, "kill", id, "CONT"]);
      const plain = killCont();
      expect(plain.code).toBe(0);
      expect(plain.stderr.split("\n")[0]).toContain(SERVED);
      const state = JSON.parse(saved);
      state.bunrunc.systemdUnit = `bunrunc-test-${id}.scope`;
      writeFileSync(statePath, JSON.stringify(state));
      const unit = killCont();
      expect(unit.code).toBe(0);
      expect(unit.stderr).toContain("level=debug");
      expect(unit.stderr).not.toContain(SERVED);
      // state only reads it: still served.
      expect(front(["--debug", "--root", b.root, "state", id]).stderr.split("\n")[0]).toContain(SERVED);
    } finally {
      writeFileSync(statePath, saved);
      front(["--root", b.root, "delete", "-f", id]);
    }
  });
});
