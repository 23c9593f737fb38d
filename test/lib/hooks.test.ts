// Runtime-side hooks with real processes: stdin state, env, argv0, exit status, timeout.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runHooks, runHooksWarn } from "../../src/lib/hooks.ts";

const dir = mkdtempSync(join(tmpdir(), "bunrunc-hooks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

test("a hook gets the state on stdin, its own env and args[0] as argv0", async () => {
  const out = join(dir, "out");
  const hook = script("record", `cat > ${out}.stdin; echo "$0 $1 $FOO $HOME" > ${out}.args`);
  await runHooks("createRuntime", [{ path: hook, args: ["my-argv0", "x"], env: ["FOO=bar"] }], { id: "c1", pid: 42 });
  expect(JSON.parse(readFileSync(`${out}.stdin`, "utf8"))).toEqual({ id: "c1", pid: 42 });
  // sh reports $0 as the script path; argv0 shows in /proc, so check the rest: env is exactly FOO.
  expect(readFileSync(`${out}.args`, "utf8")).toBe(`${hook} x bar \n`);
});

test("a failing hook fails with runc's wording and the exit status", async () => {
  const bad = script("bad", "echo oops >&2; exit 3");
  await expect(runHooks("prestart", [{ path: "/bin/true" }, { path: bad }], {})).rejects.toThrow(`error running prestart hook #1 (${bad}): exit status 3, stderr: oops`);
});

test("a hook past its timeout is killed", async () => {
  const slow = script("slow", "exec sleep 30");
  const t0 = performance.now();
  await expect(runHooks("createContainer", [{ path: slow, timeout: 1 }], {})).rejects.toThrow("timed out after 1s");
  expect(performance.now() - t0).toBeLessThan(5000);
});

test("poststop failures are warnings and the later hooks still run", async () => {
  const mark = join(dir, "mark");
  const ok = script("ok", `touch ${mark}`);
  const warnings = await runHooksWarn("poststop", [{ path: "/bin/false" }, { path: ok }], {});
  expect(warnings).toEqual(["error running poststop hook #0 (/bin/false): exit status 1"]);
  expect(readFileSync(mark, "utf8")).toBe("");
});
