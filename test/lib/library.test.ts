// A plain Bun script drives a container through the public library API, no CLI involved.
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, SKIP_REASON } from "./container-helper.ts";

const LIB = resolve(import.meta.dir, "../../src/lib/index.ts");
const bundles: TestBundle[] = [];
afterEach(() => bundles.splice(0).forEach((b) => b.cleanup()));

describe.skipIf(!canRunContainers)(`library API${SKIP_REASON}`, () => {
  test("a Bun script creates, starts, inspects, kills and deletes a container", async () => {
    const b = makeBundle(defaultSpec(["sleep", "300"]));
    bundles.push(b);
    const script = join(b.dir, "drive.ts");
    writeFileSync(
      script,
      `import * as bunrunc from ${JSON.stringify(LIB)};
const [root, bundle, id] = process.argv.slice(2);
const seen = [];
const c = await bunrunc.create({ root, id, bundle });
seen.push(bunrunc.state({ root, id }).status);
await bunrunc.start({ root, id });
seen.push(bunrunc.list({ root })[0].status);
await bunrunc.kill({ root, id, signal: "SIGKILL" });
while (bunrunc.state({ root, id }).status !== "stopped") await Bun.sleep(5);
seen.push("stopped");
await bunrunc.delete({ root, id });
seen.push(bunrunc.list({ root }).length);
console.log(JSON.stringify({ pid: c.pid, seen }));
`,
    );
    const p = Bun.spawn([process.execPath, script, b.root, b.bundle, uniqueId("lib")], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.pid).toBeGreaterThan(1);
    expect(r.seen).toEqual(["created", "running", "stopped", 0]);
  });
});
