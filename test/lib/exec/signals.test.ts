// Foreground `run` and `exec` without a terminal: stdio passes through, and the signals a user
// or supervisor sends bunrunc (INT, TERM, HUP, QUIT, USR1, USR2, WINCH) reach the container
// process, whose traps print them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as bunrunc from "../../../src/lib/index.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../../helpers/bundle.ts";
import { canRunContainers, SKIP, startContainer, until, type Container } from "./helpers.ts";
import { bunruncArgv } from "../../helpers/cli-path.ts";
import { existsSync, readFileSync } from "node:fs";

// TERM last: its trap ends the process.
const FORWARDED = ["INT", "HUP", "QUIT", "USR1", "USR2", "WINCH", "TERM"] as const;

/** Traps every forwarded signal and prints it; TERM ends it with status 9 after the others. */
const TRAPPER = [
  ...FORWARDED.filter((s) => s !== "TERM").map((s) => `trap 'echo got-${s}' ${s}`),
  "trap 'echo got-TERM; exit 9' TERM",
  "echo ready",
  "while :; do sleep 0.05; done",
].join("; ");

let c: Container;
beforeAll(async () => {
  if (canRunContainers) c = await startContainer();
});
/** Bundles of `run` tests: removed (containers first) even when a test timed out midway. */
const bundles: TestBundle[] = [];
afterAll(async () => {
  await c?.remove();
  for (const b of bundles) {
    for (const s of bunrunc.list({ root: b.root })) await bunrunc.delete({ root: b.root, id: s.id, force: true }).catch(() => {});
    b.cleanup();
  }
});

/** Starts argv, waits for "ready", sends each signal and waits for its echo; returns output and status. */
async function deliver(argv: string[]): Promise<{ code: number; stdout: string }> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  let stdout = "";
  const waitFor = async (text: string) => {
    const deadline = performance.now() + 10_000;
    while (!stdout.includes(text)) {
      if (performance.now() > deadline) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(stdout)}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`exited before ${JSON.stringify(text)}: ${JSON.stringify(stdout)}`);
      stdout += new TextDecoder().decode(value);
    }
  };
  try {
    await waitFor("ready\n");
    for (const sig of FORWARDED) {
      process.kill(p.pid, `SIG${sig}`);
      await waitFor(`got-${sig}\n`);
    }
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += new TextDecoder().decode(value);
    }
    return { code: await p.exited, stdout };
  } finally {
    p.kill("SIGKILL");
  }
}

describe.skipIf(!canRunContainers)(`signal forwarding${SKIP}`, () => {
  test("exec in the foreground: every forwarded signal reaches the process; its status comes back", async () => {
    const r = await deliver(c.argv("exec", c.id, "sh", "-c", TRAPPER));
    expect(r.stdout).toBe(["ready", ...FORWARDED.map((s) => `got-${s}`)].join("\n") + "\n");
    expect(r.code).toBe(9);
  }, 20_000);

  test("run in the foreground: the same for the container's init; the container is deleted after", async () => {
    const b = makeBundle(defaultSpec(["sh", "-c", TRAPPER]));
    bundles.push(b);
    const r = await deliver([...bunruncArgv(), "--root", b.root, "run", "--bundle", b.bundle, uniqueId("sig")]);
    expect(r.stdout).toBe(["ready", ...FORWARDED.map((s) => `got-${s}`)].join("\n") + "\n");
    expect(r.code).toBe(9);
    expect(bunrunc.list({ root: b.root })).toEqual([]);
  }, 20_000);

  test("run without a pid namespace: orphans come to bunrunc (subreaper) and are reaped", async () => {
    const spec = defaultSpec(["sh", "-c", "(sleep 0.3 & echo orphan=$!); sleep 2; echo done"]);
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "pid");
    const b = makeBundle(spec);
    bundles.push(b);
    const p = Bun.spawn([...bunruncArgv(), "--root", b.root, "run", "--bundle", b.bundle, uniqueId("orphan")], { stdout: "pipe", stderr: "inherit" });
    const reader = p.stdout.getReader();
    let out = "";
    while (!/orphan=\d+\n/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`no orphan pid in ${JSON.stringify(out)}`);
      out += new TextDecoder().decode(value);
    }
    const orphan = Number(/orphan=(\d+)/.exec(out)![1]);
    const ppid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ")[1]);
    // The subshell that printed the pid may still be exiting: it comes to bunrunc once it has.
    await until(() => ppid(orphan) === p.pid, 1000).catch(() => {});
    expect(ppid(orphan)).toBe(p.pid);
    // Once it exits (0.3 s) bunrunc reaps it while the container still runs.
    await until(() => !existsSync(`/proc/${orphan}`), 1500);
    expect(p.exitCode).toBeNull();
    expect(await p.exited).toBe(0);
  }, 20_000);

  test("a process killed by a signal: 128 + the signal", async () => {
    const p = Bun.spawn(c.argv("exec", c.id, "sh", "-c", "echo ready; kill -KILL $$"), { stdout: "pipe" });
    expect(await p.exited).toBe(137);
    expect(await new Response(p.stdout).text()).toBe("ready\n");
  });
});

