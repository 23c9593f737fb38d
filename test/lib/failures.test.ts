// Failures at create name the step and the path, and leave nothing behind: no state dir, no
// cgroup, no host mount, no process. Exec failures name the binary and the cause; hook failures
// name the hook; a startContainer hook failing after `create` returned reports on stderr.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunContainers, SKIP_REASON } from "./container-helper.ts";

const DRIVER = resolve(import.meta.dir, "fixtures/run-driver.ts");
const bundles: TestBundle[] = [];
afterEach(() => {
  for (const b of bundles.splice(0)) b.cleanup();
});

/** Processes that are our children (the init of a failed create would be one). */
function children(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid) out.push(`${pid} ${stat.slice(stat.indexOf("("), stat.lastIndexOf(")") + 1)}`);
    } catch {}
  }
  return out;
}

function cgroupDirsNamed(id: string): string[] {
  return readdirSync("/sys/fs/cgroup").map((c) => join("/sys/fs/cgroup", c, id)).filter((d) => existsSync(d));
}

/** create with `edit` applied: its error message, and everything it could have left behind. */
async function failedCreate(args: string[], edit: (s: Spec, b: TestBundle) => void = () => {}) {
  const spec = defaultSpec(args);
  const b = makeBundle(spec);
  bundles.push(b);
  edit(spec, b);
  b.writeSpec(spec);
  const id = uniqueId("fail");
  // Only mounts of this bundle: other files (in the VM tier, running beside this one) mount too.
  const ours = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(b.dir)).join("\n");
  const mountsBefore = ours();
  const childrenBefore = children();
  const err = await bunrunc.create({ root: b.root, id, bundle: b.bundle }).then(
    () => new Error("create succeeded"),
    (e: Error) => e,
  );
  expect({
    stateDir: existsSync(join(b.root, id)),
    cgroups: cgroupDirsNamed(id),
    mounts: ours() === mountsBefore,
    processes: children().filter((c) => !childrenBefore.includes(c)),
  }).toEqual({ stateDir: false, cgroups: [], mounts: true, processes: [] });
  return err.message;
}

function script(b: TestBundle, name: string, body: string, mode: number): void {
  writeFileSync(join(b.rootfs, name), body);
  chmodSync(join(b.rootfs, name), mode);
}

describe.skipIf(!canRunContainers)(`failures${SKIP_REASON}`, () => {
  test("a bad mount source names the step and the path; nothing is left behind", async () => {
    const message = await failedCreate(["true"], (s) => {
      s.mounts!.push({ destination: "/x", type: "bind", source: "/nonexistent", options: ["rbind"] });
    });
    expect(message).toBe("create: mount /nonexistent on /x: no such file or directory");
  });

  test("a mount failing after others succeeded (cgroup, proc, /dev made) still leaves nothing", async () => {
    const message = await failedCreate(["true"], (s) => {
      s.mounts!.push({ destination: "/late", type: "no-such-fs", source: "none" });
    });
    expect(message).toBe("create: mount none on /late: no such device");
  });

  test("exec failures name the binary and the cause, at create", async () => {
    const cases: [string[], string, (b: TestBundle) => void][] = [
      [["nosuchcmd"], 'create: find executable nosuchcmd: exec: "nosuchcmd": executable file not found in $PATH', () => {}],
      [["/no/such"], 'create: find executable /no/such: exec: "/no/such": stat /no/such: no such file or directory', () => {}],
      [["/notexec"], 'create: find executable /notexec: exec: "/notexec": permission denied', (b) => script(b, "notexec", "#!/bin/sh\n", 0o644)],
      [["/bin"], 'create: find executable /bin: exec: "/bin": is a directory', () => {}],
      [["/script"], 'create: find executable /script: exec: "/script": interpreter /no/interp: no such file or directory', (b) => script(b, "script", "#!/no/interp -x\necho hi\n", 0o755)],
      [["inpath"], 'create: find executable inpath: exec: "inpath": permission denied', (b) => script(b, "bin/inpath", "#!/bin/sh\n", 0o644)],
    ];
    for (const [args, expected, setup] of cases) {
      expect(await failedCreate(args, (_, b) => setup(b))).toBe(expected);
    }
  });

  test("createRuntime/prestart hook failures name the hook; a missing hook binary too", async () => {
    const missing = await failedCreate(["true"], (s) => {
      s.hooks = { prestart: [{ path: "/no/such/hook" }] };
    });
    expect(missing).toStartWith("create: error running prestart hook #0 (/no/such/hook): ");
    expect(missing.toLowerCase()).toContain("no such file or directory");
    const failing = await failedCreate(["true"], (s) => {
      s.hooks = { createContainer: [{ path: "/bin/sh", args: ["sh", "-c", "echo broken >&2; exit 4"] }] };
    });
    expect(failing).toBe("create: error running createContainer hook #0 (/bin/sh): exit status 4, stderr: broken");
  });

  test("a failing startContainer hook stops the container before exec and says why on stderr", async () => {
    const spec = defaultSpec(["sh", "-c", "echo should-not-run"]);
    spec.hooks = { startContainer: [{ path: "/bin/false" }] };
    const b = makeBundle(spec);
    bundles.push(b);
    const p = Bun.spawn([process.execPath, DRIVER, JSON.stringify({ root: b.root, id: uniqueId("start"), bundle: b.bundle })], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ stdout, stderr, code }).toEqual({ stdout: "", stderr: "bunrunc: startContainer hook: /bin/false: exit status 1\n", code: 127 });
  });

  test("an exec that fails after start says why on stderr, with strerror text", async () => {
    const spec = defaultSpec(["/gone"]);
    const b = makeBundle(spec);
    bundles.push(b);
    script(b, "gone", "#!/bin/sh\necho ran\n", 0o755);
    const opts = { root: b.root, id: uniqueId("gone"), bundle: b.bundle, unlinkBeforeStart: join(b.rootfs, "gone") };
    const p = Bun.spawn([process.execPath, DRIVER, JSON.stringify(opts)], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ stdout, stderr, code }).toEqual({ stdout: "", stderr: "bunrunc: exec the container process: /gone: no such file or directory\n", code: 0 });
  });

  test("a failing poststart hook is only a warning: the container runs to its end", async () => {
    const spec = defaultSpec(["true"]);
    spec.hooks = { poststart: [{ path: "/bin/false" }] };
    const b = makeBundle(spec);
    bundles.push(b);
    const warnings: string[] = [];
    const code = await bunrunc.run({ root: b.root, id: uniqueId("poststart"), bundle: b.bundle, warn: (m) => warnings.push(m) });
    expect(code).toBe(0);
    expect(warnings).toEqual(["error running poststart hook #0 (/bin/false): exit status 1"]);
  });
});
