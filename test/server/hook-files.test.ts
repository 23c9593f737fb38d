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
});
