// Containers with hooks through the resident server (every Docker container with its own network
// namespace has a prestart hook): served, and reading exactly as the direct path (BUNRUNC_SERVER=off)
// — exit code, what each hook gets (state on stdin, argv, env, working directory, open fds), hook
// failures, timeouts, warnings. The server parks a call while its hook runs (src/server/serve.ts);
// test/server/attacks.test.ts shows a slow hook holds up nobody else.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { uniqueId } from "../helpers/bundle.ts";
import { canRun, direct, front, scrubTime, serverPids, serverUp, SERVED, SKIP } from "./helpers.ts";
import { bundle, cleanupBundles } from "./helpers.ts";

afterAll(() => cleanupBundles());

const KINDS = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"] as const;

/** A hook that records what it was given into `<dir>/<kind>.<n>`: stdin, argv, env, cwd, open fds. */
function recorder(dir: string, kind: string) {
  const out = join(dir, kind);
  const script = `n=$(ls ${out}.* 2>/dev/null | wc -l); f=${out}.$n; { cat; echo; echo "argv $0 $1"; env | sort; echo "cwd $(pwd)"; ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; } > $f`;
  return { path: "/bin/sh", args: ["sh", "-c", script, "arg1"], env: ["HOOK_KIND=" + kind, "PATH=/usr/bin:/bin"] };
}

/** What a hook recorded, with the values that differ between two containers (id, pids, times, paths) named. */
function recorded(dir: string, id: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((n) => /^[a-zA-Z]+\.\d+$/.test(n)).sort()) {
    out[name] = readFileSync(join(dir, name), "utf8").replaceAll(id, "ID").replace(/"pid":\d+/g, '"pid":0').replace(/"created":"[^"]*"/g, '"created":"T"');
    rmSync(join(dir, name));
  }
  return out;
}

describe.skipIf(!canRun)(`containers with hooks, served${SKIP}`, () => {
  test("run: every runtime hook runs from the server; exit code, hook input and a failing poststop read as direct", () => {
    const b = bundle(["sh", "-c", "exit 3"]);
    const hooks = join(b.dir, "hooks");
    mkdirSync(hooks);
    const spec = JSON.parse(readFileSync(join(b.bundle, "config.json"), "utf8"));
    spec.hooks = Object.fromEntries(KINDS.map((k) => [k, [recorder(hooks, k)]]));
    spec.hooks.poststop.push({ path: "/bin/sh", args: ["sh", "-c", "echo post-stop-trouble >&2; exit 4"] });
    writeFileSync(join(b.bundle, "config.json"), JSON.stringify(spec));
    serverUp(b.root);
    const seen: Record<string, unknown> = {};
    for (const [path, env] of [["served", {}], ["direct", direct]] as const) {
      const id = uniqueId("hk");
      // A relative --bundle from the caller's directory: the hooks' cwd is the caller's, as direct.
      const r = front(["--debug", "--root", b.root, "run", "--bundle", "bundle", id], { env, cwd: b.dir });
      const lines = r.stderr.trim().split("\n");
      if (path === "served") expect(lines[0]).toContain(SERVED);
      else expect(r.stderr).not.toContain(SERVED);
      seen[path] = {
        code: r.code,
        warnings: lines.filter((l) => l.includes("level=warning")).map((l) => scrubTime(l).replaceAll(id, "ID")),
        hooks: recorded(hooks, id),
      };
    }
    expect(seen.served).toEqual(seen.direct);
    const served = seen.served as { code: number; warnings: string[]; hooks: Record<string, string> };
    expect(served.code).toBe(3);
    expect(served.warnings).toEqual(['time=T level=warning msg="error running poststop hook #1 (/bin/sh): exit status 4, stderr: post-stop-trouble"']);
    expect(Object.keys(served.hooks)).toEqual(KINDS.map((k) => `${k}.0`).sort());
    const pre = served.hooks["prestart.0"]!;
    expect(JSON.parse(pre.split("\n")[0]!)).toMatchObject({ id: "ID", status: "creating", bundle: b.bundle });
    expect(pre).toContain(`cwd ${b.dir}\n`);
    expect(pre).toContain("argv arg1 \n");
    expect(pre).toContain("HOOK_KIND=prestart\n");
    // stdin, stdout, stderr and ls's own directory fd: nothing of the server's (or the caller's) leaks in.
    expect(pre.trimEnd().split("\n").at(-1)).toBe("0 1 2 3");
    expect(readdirSync(b.root).filter((n) => !n.startsWith("@") && !n.startsWith("."))).toEqual([]);
  });

  test("a hook that swaps its call's --log for a FIFO while the call is parked: the call keeps its open log, the server serves on", () => {
    // The server parks the call while the hook runs, then puts its log back: the same open file,
    // never reopened by path (a FIFO there would block the whole server; a path that fails to
    // open would end it).
    const b = bundle(["true"]);
    const log = join(b.dir, "log.json");
    const swap = `rm -f ${log} && mkfifo ${log}`;
    const spec = JSON.parse(readFileSync(join(b.bundle, "config.json"), "utf8"));
    spec.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", swap] }] };
    writeFileSync(join(b.bundle, "config.json"), JSON.stringify(spec));
    serverUp(b.root);
    const before = serverPids();
    writeFileSync(log, "");
    const r = front(["--debug", "--root", b.root, "--log", log, "--log-format", "json", "run", "--bundle", b.bundle, uniqueId("fifo")]);
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 0, stderr: "" });
    // The next call, from another caller, is served by the same server.
    const next = front(["--debug", "--root", b.root, "state", "nothing-here"]);
    expect(next.stderr.split("\n")[0]).toContain(SERVED);
    expect(serverPids()).toEqual(before);
    rmSync(log, { force: true });
  });

  test("a failing or timed-out create hook: the same message and exit code served and direct, nothing left behind", () => {
    const b = bundle(["true"]);
    serverUp(b.root);
    const cases = [
      // More stderr than a pipe holds: the hook never blocks on a server busy elsewhere.
      { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x >&2; echo; echo the-last-line >&2; exit 7"] }] },
      { prestart: [{ path: "/bin/sh", args: ["sh", "-c", "exec sleep 30"], timeout: 1 }] },
      { createContainer: [{ path: "/nonexistent/hook" }] },
    ];
    for (const hooks of cases) {
      const spec = JSON.parse(readFileSync(join(b.bundle, "config.json"), "utf8"));
      spec.hooks = hooks;
      writeFileSync(join(b.bundle, "config.json"), JSON.stringify(spec));
      const seen: Record<string, unknown> = {};
      for (const [path, env] of [["served", {}], ["direct", direct]] as const) {
        const id = uniqueId("hkf");
        const r = front(["--debug", "--root", b.root, "create", "-b", b.bundle, id], { env });
        const lines = r.stderr.trim().split("\n");
        expect(lines[0]!.includes(SERVED)).toBe(path === "served");
        seen[path] = { code: r.code, error: scrubTime(lines.at(-1)!).replaceAll(id, "ID") };
        expect(readdirSync(b.root).filter((n) => !n.startsWith("@") && !n.startsWith("."))).toEqual([]);
      }
      expect(seen.served).toEqual(seen.direct);
      expect((seen.served as { code: number }).code).toBe(1);
    }
  });
});
