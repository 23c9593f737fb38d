// What a hook run by the resident server (as root, for any admitted caller) may not be made to
// touch or wait on: a directory the caller names (TMPDIR) and a hook that SIGKILL cannot end.
// Real containers, real hooks, the server found by its executable (test/server/helpers.ts).
import { afterAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { uniqueId } from "../helpers/bundle.ts";
import { canRun, CORE, front, ppidOf, SERVED, serverPids, serverUp, SKIP, waitFor } from "./helpers.ts";
import { bundle, cleanupBundles } from "./helpers.ts";

setDefaultTimeout(60_000);
afterAll(() => cleanupBundles());

const FREEZER = "/sys/fs/cgroup/freezer";
const haveFreezer = existsSync(join(FREEZER, "freezer.state")) || existsSync(join(FREEZER, "cgroup.procs"));

describe.skipIf(!canRun)(`a hook's files and its end, served${SKIP}`, () => {
  test("a caller's TMPDIR that is a FIFO, a symlink to one, a regular file or missing changes nothing: the hook reads its state on stdin, its stderr is in the error", () => {
    const b = bundle(["true"]);
    const seen = join(b.dir, "stdin-seen");
    const spec = JSON.parse(readFileSync(join(b.bundle, "config.json"), "utf8"));
    spec.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${seen}; echo the-hook-said-no >&2; exit 5`] }] };
    writeFileSync(join(b.bundle, "config.json"), JSON.stringify(spec));
    const places = join(b.dir, "tmpdirs");
    mkdirSync(places);
    const fifo = join(places, "fifo");
    Bun.spawnSync(["mkfifo", fifo]);
    symlinkSync(fifo, join(places, "link-to-fifo"));
    writeFileSync(join(places, "file"), "");
    serverUp(b.root);
    for (const tmp of [fifo, join(places, "link-to-fifo"), join(places, "file"), join(places, "missing")]) {
      const id = uniqueId("tmpd");
      const r = front(["--debug", "--root", b.root, "create", "-b", b.bundle, id], { env: { TMPDIR: tmp } });
      const lines = r.stderr.trim().split("\n");
      expect(lines[0]).toContain(SERVED);
      expect(r.code).toBe(1);
      expect(lines.at(-1)).toContain(`error running prestart hook #0 (/bin/sh): exit status 5, stderr: the-hook-said-no`);
      expect(JSON.parse(readFileSync(seen, "utf8"))).toMatchObject({ id, status: "creating", bundle: b.bundle });
    }
    // Nothing was made in any of them, and the server still serves.
    expect(existsSync(join(places, "missing"))).toBe(false);
    expect(readFileSync(join(places, "file"), "utf8")).toBe("");
    expect(front(["--debug", "--root", b.root, "state", "nothing-here"]).stderr.split("\n")[0]).toContain(SERVED);
  });

  test.skipIf(!haveFreezer)(
    `a hook past its timeout that SIGKILL cannot end (frozen in a cgroup v1 freezer) fails its call without waiting for it; others are served meanwhile; the server reaps it once thawed${haveFreezer ? "" : " [skipped: no cgroup v1 freezer]"}`,
    async () => {
      const cg = join(FREEZER, uniqueId("bunrunc-test-frozen-hook"));
      mkdirSync(cg);
      const b = bundle(["true"]);
      const pidFile = join(b.dir, "hook-pid");
      const spec = JSON.parse(readFileSync(join(b.bundle, "config.json"), "utf8"));
      // The hook moves itself into the test's freezer cgroup; the test freezes it there.
      spec.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `echo $$ > ${cg}/cgroup.procs && echo $$ > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile} && exec sleep 60`], timeout: 3 }] };
      writeFileSync(join(b.bundle, "config.json"), JSON.stringify(spec));
      const other = bundle(["true"]);
      serverUp(b.root);
      const id = uniqueId("frz");
      const create = Bun.spawn([join(CORE, "../bunrunc"), "--debug", "--root", b.root, "create", "-b", b.bundle, id], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      let hookPid = 0;
      try {
        waitFor(() => existsSync(pidFile), 30_000);
        hookPid = Number(readFileSync(pidFile, "utf8").trim());
        writeFileSync(join(cg, "freezer.state"), "FROZEN");
        waitFor(() => readFileSync(join(cg, "freezer.state"), "utf8").trim() === "FROZEN");
        // Past its timeout the hook gets SIGKILL, which a frozen task does not act on until thawed.
        // Without the bound the call (and the whole server) waits for the thaw: the 40 s here is
        // only how long the test waits before calling that a failure.
        const ended = await Promise.race([create.exited, Bun.sleep(40_000).then(() => "still waiting" as const)]);
        expect(ended).toBe(1);
        const lines = (await new Response(create.stderr).text()).trim().split("\n");
        expect(lines[0]).toContain(SERVED);
        expect(lines.at(-1)).toContain("error running prestart hook #0 (/bin/sh): timed out after 3s");
        // The hook is still there, frozen, and still the server's child.
        expect(readFileSync(join(cg, "freezer.state"), "utf8").trim()).toBe("FROZEN");
        expect(readFileSync(join(cg, "cgroup.procs"), "utf8").trim().split("\n")).toContain(String(hookPid));
        expect(serverPids()).toContain(ppidOf(hookPid));
        // Another caller's whole run is served while it stays frozen.
        const r = front(["--debug", "--root", other.root, "run", "-b", other.bundle, uniqueId("frz-other")]);
        expect(r.code).toBe(0);
        expect(r.stderr.split("\n")[0]).toContain(SERVED);
        expect(front(["--root", b.root, "state", id]).code).toBe(1); // the failed create left nothing
        writeFileSync(join(cg, "freezer.state"), "THAWED");
        // Thawed, the SIGKILL lands; the server reaps its child (no zombie left at that pid).
        waitFor(() => !existsSync(`/proc/${hookPid}`), 30_000);
      } finally {
        writeFileSync(join(cg, "freezer.state"), "THAWED");
        create.kill(9);
        await create.exited;
        try {
          waitFor(() => readFileSync(join(cg, "cgroup.procs"), "utf8").trim() === "");
        } finally {
          rmdirSync(cg);
        }
      }
    },
  );
});
