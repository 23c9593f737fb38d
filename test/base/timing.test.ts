// BUNRUNC_TIMING=1 prints one `phase <name> <ms since previous> <ms since start>` line per step of
// a real `run` to stderr, in order; without it stderr stays empty (the marks cost nothing).
import { afterEach, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { MAIN } from "../cli/run-cli.ts";

const canRun = process.getuid?.() === 0 && existsSync("/sys/fs/cgroup");
const bundles: TestBundle[] = [];
afterEach(() => bundles.splice(0).forEach((b) => b.cleanup()));

function run(env: Record<string, string | undefined>) {
  const b = makeBundle(defaultSpec(["true"]));
  bundles.push(b);
  const r = Bun.spawnSync([process.execPath, MAIN, "--root", b.root, "run", uniqueId("timing")], { cwd: b.bundle, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  return { code: r.exitCode, stderr: r.stderr.toString() };
}

const skipNote = canRun ? "" : " [skipped: needs root and cgroups]";

test.skipIf(!canRun)(`BUNRUNC_TIMING=1 marks each phase of run, in order, on stderr${skipNote}`, () => {
  const r = run({ ...process.env, BUNRUNC_TIMING: "1" });
  expect(r.code).toBe(0);
  const lines = r.stderr.trim().split("\n");
  for (const l of lines) expect(l).toMatch(/^phase [a-z.+-]+ \d+\.\d\d \d+\.\d\d$/);
  const names = lines.map((l) => l.split(" ")[1]);
  expect(names).toEqual(["js-start", "main", "verb-loaded", "create.config", "create.record", "create.state-dir+fifo", "create.cgroup", "create.plan", "create.spawn", "create.init-walked", "create.state-written", "start.state-read", "start.fifo-written", "run.started", "run.exited", "delete.state-read", "delete.killed+reaped", "delete.cgroup-removed", "delete.state-removed", "exit"]);
  const since = lines.map((l) => Number(l.split(" ")[3]));
  expect(since).toEqual([...since].sort((a, b) => a - b));
});

test.skipIf(!canRun)(`without BUNRUNC_TIMING run writes nothing to stderr${skipNote}`, () => {
  const env = { ...process.env };
  delete env.BUNRUNC_TIMING;
  const r = run(env);
  expect(r).toEqual({ code: 0, stderr: "" });
});
