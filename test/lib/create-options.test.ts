// create's options as a caller uses them: --pid-file, --preserve-fds, LISTEN_FDS from systemd
// socket activation, stdio inherited from the caller, and --no-new-keyring. The runtime runs in
// its own process (fixtures/run-driver.ts) so it can be handed real fds and environment.
import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, PROBE, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, cleanRuns, SKIP_REASON } from "./container-helper.ts";

const hasProbe = existsSync(PROBE);
const DRIVER = resolve(import.meta.dir, "fixtures/run-driver.ts");
const run = cleanRuns();
const bundles: TestBundle[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const b of bundles.splice(0)) b.cleanup();
});

function bundle(args: string[], edit: (s: Spec) => void = () => {}): TestBundle {
  const spec = defaultSpec(args);
  edit(spec);
  const b = makeBundle(spec);
  bundles.push(b);
  return b;
}

/** A read-only fd of a file holding `text`, to hand to the runtime. */
function fileFd(b: TestBundle, text: string): number {
  const path = join(b.dir, "passed-file");
  writeFileSync(path, text);
  const fd = openSync(path, "r");
  fds.push(fd);
  return fd;
}

interface Driven {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the driver: `extra` fds become its 3, 4...; `shellEnv` is prefixed in a shell that execs it (so $$ is its pid). */
async function drive(opts: Partial<bunrunc.RunOptions> & { root: string; bundle: string }, o: { extra?: number[]; shellEnv?: string; stdin?: string } = {}): Promise<Driven> {
  const json = JSON.stringify({ id: uniqueId("drv"), ...opts });
  const argv = o.shellEnv ? ["sh", "-c", `${o.shellEnv} exec "$0" "$@"`, process.execPath, DRIVER, json] : [process.execPath, DRIVER, json];
  const p = Bun.spawn(argv, { stdio: [o.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe", ...(o.extra ?? [])] });
  if (o.stdin !== undefined) {
    p.stdin!.write(o.stdin);
    p.stdin!.end();
  }
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

describe.skipIf(!canRunContainers)(`create options${SKIP_REASON}`, () => {
  test("--pid-file: the pid, no newline, written by rename (no temp file left), an old file replaced", async () => {
    const b = bundle(["sleep", "300"]);
    const dir = join(b.dir, "piddir");
    mkdirSync(dir);
    const pidFile = join(dir, "container.pid");
    writeFileSync(pidFile, "stale contents\n");
    const id = uniqueId("pid");
    const s = await bunrunc.create({ root: b.root, id, bundle: b.bundle, pidFile });
    try {
      expect(readFileSync(pidFile, "utf8")).toBe(String(s.pid));
      expect(readdirSync(dir)).toEqual(["container.pid"]);
    } finally {
      await bunrunc.delete({ root: b.root, id, force: true });
    }
  });

  test("stdio is the caller's: stdin read, stdout and stderr written straight through", async () => {
    const b = bundle(["sh", "-c", "read line; echo got:$line; echo to-stderr >&2"]);
    const r = await drive({ root: b.root, bundle: b.bundle }, { stdin: "hello\n" });
    expect(r).toEqual({ code: 0, stdout: "got:hello\n", stderr: "to-stderr\n" });
  });

  test("--preserve-fds 1: the caller's fd 3 is the container's fd 3; without it fd 3 is closed", async () => {
    const b = bundle(["sh", "-c", "cat <&3 2>&1 || echo no-fd-3"]);
    const kept = await drive({ root: b.root, bundle: b.bundle, preserveFds: 1 }, { extra: [fileFd(b, "preserved\n")] });
    expect(kept).toMatchObject({ code: 0, stdout: "preserved\n" });
    const closed = await drive({ root: b.root, bundle: b.bundle }, { extra: [fileFd(b, "preserved\n")] });
    expect(closed.stdout).toContain("no-fd-3");
  });

  test("LISTEN_FDS for our pid: the fds pass on, the container gets LISTEN_FDS=1 LISTEN_PID=1", async () => {
    const b = bundle(["sh", "-c", 'echo "$LISTEN_FDS $LISTEN_PID"; cat <&3 2>/dev/null || echo no-fd-3']);
    const passed = await drive({ root: b.root, bundle: b.bundle }, { extra: [fileFd(b, "socket\n")], shellEnv: "LISTEN_FDS=1 LISTEN_PID=$$" });
    expect(passed).toMatchObject({ code: 0, stdout: "1 1\nsocket\n" });
    // Meant for another process: ignored, nothing passed.
    const other = await drive({ root: b.root, bundle: b.bundle }, { extra: [fileFd(b, "socket\n")], shellEnv: "LISTEN_FDS=1 LISTEN_PID=1" });
    expect(other).toMatchObject({ code: 0, stdout: " \nno-fd-3\n" });
  });

  test.skipIf(!hasProbe)(`a new session keyring named _ses.<id>, searchable by its user; --no-new-keyring keeps the caller's${hasProbe ? "" : " [skipped: bunrunc-probe not built]"}`, async () => {
    const id = uniqueId("keys");
    const fresh = await run("/probe session-keyring", () => {}, { run: { id } });
    const [type, uid, , perm, name] = fresh.out.trim().split(";");
    expect([type, uid, name]).toEqual(["keyring", "0", `_ses.${id}`]);
    expect(parseInt(perm!, 16) & 0x80000).toBe(0x80000); // KEY_USR_SEARCH, added as runc does
    const kept = await run("/probe session-keyring", () => {}, { run: { id: uniqueId("keys"), noNewKeyring: true } });
    expect(kept.out).toBe(Bun.spawnSync([PROBE, "session-keyring"]).stdout.toString());
  });
});
