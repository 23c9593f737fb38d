// Kernel memory limits (linux.resources.memory.kernel, kernelTCP): deprecated by the
// runtime-spec, ignored by kernels since 5.16 on v1, absent on v2. As runc: one warning through
// the log contract, the container runs, the limits beside them still apply; `update` the same.
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupVersion } from "../../src/cgroups/paths.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { front, FRONT_SKIP, PATHS, canRunFront, serverUp, type Path } from "../helpers/front.ts";
import { pathSkip, pathTest } from "../helpers/front.ts";

// Generous: each call through dist/bunrunc is a Bun start: seconds under the VM tier's emulation.
setDefaultTimeout(120_000);

const MiB = 1024 * 1024;
const version = cgroupVersion();
const LIMIT_FILE = version === 1 ? "memory.limit_in_bytes" : "memory.max";
const WARNING = "linux.resources.memory.kernel, linux.resources.memory.kernelTCP: kernel memory limits are deprecated and ignored (as runc does)";

const bundles: TestBundle[] = [];
afterEach(() => {
  for (const b of bundles.splice(0)) b.cleanup();
});

/** The JSON log's entries (each line one logrus object). */
function entries(path: string): { level: string; msg: string }[] {
  return readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

function memoryDir(root: string, id: string): string {
  const saved = JSON.parse(readFileSync(join(root, id, "state.json"), "utf8"));
  return version === 1 ? saved.bunrunc.cgroupPaths.memory : saved.bunrunc.cgroupPaths[""];
}

function kmemBundle(path: Path, args: string[]): TestBundle {
  const spec = defaultSpec(args);
  spec.linux!.resources = { ...(spec.linux!.resources ?? {}), memory: { limit: 64 * MiB, kernel: 32 * MiB, kernelTCP: 8 * MiB } };
  const b = makeBundle(spec);
  bundles.push(b);
  if (path === "served") serverUp(b.root);
  return b;
}

describe.skipIf(!canRunFront)(`kernel memory limits: warned once, ignored${FRONT_SKIP}`, () => {
  for (const path of PATHS) {
    pathTest(path)(`${path}${pathSkip(path)}: create warns once in the JSON log, the container runs with memory.limit applied`, () => {
      const b = kmemBundle(path, ["sh", "-c", "exit 7"]);
      const id = uniqueId("kmem");
      const log = join(b.dir, "log.json");
      const logFlags = ["--root", b.root, "--log", log, "--log-format", "json"];
      const created = front(path, [...logFlags, "create", "--bundle", b.bundle, id], { detaches: true });
      expect(created.code).toBe(0);
      expect(entries(log).filter((e) => e.level === "warning")).toEqual([expect.objectContaining({ msg: WARNING })]);
      expect(readFileSync(join(memoryDir(b.root, id), LIMIT_FILE), "utf8").trim()).toBe(String(64 * MiB));
      expect(front(path, ["--root", b.root, "start", id]).code).toBe(0);
      const deadline = Date.now() + 10_000;
      while (!front(path, ["--root", b.root, "state", id]).stdout.includes('"stopped"') && Date.now() < deadline) Bun.sleepSync(20);
      expect(JSON.parse(front(path, ["--root", b.root, "state", id]).stdout).status).toBe("stopped");
      expect(front(path, [...logFlags, "delete", id]).code).toBe(0);
      // create's warning is the only one: start and delete add none.
      expect(entries(log).filter((e) => e.level === "warning").length).toBe(1);
    });
  }

  test("run: the process's exit code comes back, one warning on stderr", () => {
    const b = kmemBundle("direct", ["sh", "-c", "exit 7"]);
    const r = front("direct", ["--root", b.root, "run", "--bundle", b.bundle, uniqueId("kmem")]);
    expect(r.code).toBe(7);
    expect(r.stderr.split("\n").filter((l) => l.includes("kernel memory limits")).length).toBe(1);
  });

  test("update --kernel-memory warns once and applies --memory beside it", () => {
    const b = kmemBundle("direct", ["sleep", "100"]);
    const id = uniqueId("kmem");
    const log = join(b.dir, "log.json");
    expect(front("direct", ["--root", b.root, "create", "--bundle", b.bundle, id], { detaches: true }).code).toBe(0);
    try {
      const r = front("direct", ["--root", b.root, "--log", log, "--log-format", "json", "update", "--memory", "48m", "--kernel-memory", "16m", id]);
      expect(r.code).toBe(0);
      expect(entries(log).filter((e) => e.level === "warning").map((e) => e.msg)).toEqual(["linux.resources.memory.kernel: kernel memory limits are deprecated and ignored (as runc does)"]);
      expect(readFileSync(join(memoryDir(b.root, id), LIMIT_FILE), "utf8").trim()).toBe(String(48 * MiB));
    } finally {
      front("direct", ["--root", b.root, "delete", "--force", id]);
    }
  });
});
