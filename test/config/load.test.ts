// loadBundleConfig and the process/resources/state parsers: typed output, full precision, loose
// objects, null as absent, one-line errors; and create refusing a bad config with nothing left behind.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadBundleConfig, parseConfigJson, parseProcessJson, parseResourcesJson, parseStateJson } from "../../src/config/load.ts";
import { stringifyJson } from "../../src/config/json.ts";
import { create } from "../../src/lib/create.ts";
import { loadSpec } from "../../src/lib/bundle.ts";

const FIXTURES = resolve(import.meta.dir, "../../spec-fixtures/valid");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const tmp = mkdtempSync(join(tmpdir(), "bunrunc-config-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bundleWith(name: string, text: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), text);
  return dir;
}

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected a failure");
}

describe("loadBundleConfig", () => {
  test("reads <bundle>/config.json; lib's loadSpec is the same validation", () => {
    const dir = bundleWith("podman", fixture("podman-4.3.json"));
    const config = loadBundleConfig(dir);
    expect(config.process?.args?.length).toBeGreaterThan(0);
    expect(loadSpec(dir)).toEqual(config);
  });

  test("int64/uint64 values survive validation with every digit", () => {
    const config = parseConfigJson(fixture("everything.json"));
    const personality = config.linux?.seccomp?.syscalls?.[1]?.args?.[0];
    expect(personality?.value).toBe(18446744073709551615n);
    expect(config.linux?.resources?.memory?.limit).toBe(-1);
    expect(config.linux?.resources?.memory?.swappiness).toBe(18446744073709551615n);
    expect(config.linux?.timeOffsets?.boottime?.secs).toBe(9223372036854775807n);
    expect(config.process?.rlimits?.[1]?.soft).toBe(18446744073709551615n);
    const again = parseConfigJson(stringifyJson(config));
    expect(again).toEqual(config);
    expect(stringifyJson(again)).toContain('"value":18446744073709551615');
  });

  test("unknown members are kept, null members count as absent", () => {
    const config = parseConfigJson(fixture("nulls-and-unknowns.json")) as Record<string, unknown> & ReturnType<typeof parseConfigJson>;
    expect(config.solaris).toEqual({ anything: true });
    expect((config.process as Record<string, unknown>).futureField).toEqual([1, 2, 3]);
    expect(config.mounts).toBeUndefined();
    expect(config.process?.env).toBeUndefined();
    expect(config.linux?.seccomp).toBeUndefined();
    expect(config.linux?.namespaces?.[0]?.path).toBeUndefined();
  });

  test("a missing config.json is one line naming the file", () => {
    const dir = join(tmp, "empty-bundle");
    mkdirSync(dir, { recursive: true });
    expect(messageOf(() => loadBundleConfig(dir))).toBe(`config.json: cannot read ${dir}/config.json: no such file or directory`);
  });

  test("create refuses a bad config in one line and leaves nothing under --root", async () => {
    const config = JSON.parse(fixture("runc-spec.json"));
    config.linux.resources.memory = { limit: "64m" };
    const bundle = bundleWith("bad-memory", JSON.stringify(config));
    const root = join(tmp, "state-root");
    mkdirSync(root, { recursive: true });
    const id = `cfg-${process.pid}-${Date.now().toString(36)}`;
    await expect(create({ root, id, bundle })).rejects.toThrow('config.json: linux.resources.memory.limit: expected integer, got "64m"');
    expect(readdirSync(root)).toEqual([]);
  });
});

describe("parseProcessJson (exec --process)", () => {
  const process = { user: { uid: 0, gid: 0 }, args: ["sh", "-c", "true"], cwd: "/", env: ["A=b"], terminal: false };

  test("a process object validates", () => {
    const p = parseProcessJson(JSON.stringify(process), "process.json");
    expect(p.args).toEqual(["sh", "-c", "true"]);
  });

  test("errors are relative to the process object, prefixed with its source", () => {
    expect(messageOf(() => parseProcessJson(JSON.stringify({ ...process, args: [] }), "process.json"))).toBe("process.json: args: must not be empty");
    expect(messageOf(() => parseProcessJson(JSON.stringify({ ...process, cwd: "tmp" }), "/x/p.json"))).toBe('/x/p.json: cwd: must be an absolute path, got "tmp"');
    expect(messageOf(() => parseProcessJson(JSON.stringify({ ...process, user: { uid: "root", gid: 0 } }), "process.json"))).toBe(
      'process.json: user.uid: expected integer, got "root"',
    );
    expect(messageOf(() => parseProcessJson("{", "process.json"))).toBe("process.json: invalid JSON at line 1 column 2: unexpected end of input, expected a string key");
  });
});

describe("parseResourcesJson (update -r)", () => {
  test("LinuxResources with -1 and uint64 values", () => {
    const r = parseResourcesJson('{"memory":{"limit":-1,"swap":-1},"cpu":{"shares":18446744073709551615},"pids":{"limit":100}}', "resources.json");
    expect(r.memory?.limit).toBe(-1);
    expect(r.cpu?.shares).toBe(18446744073709551615n);
    expect(r.pids?.limit).toBe(100);
  });

  test("an int64 field refuses 2^64-1; rules apply at the document's root", () => {
    expect(messageOf(() => parseResourcesJson('{"memory":{"limit":18446744073709551615}}', "-"))).toBe(
      "-: memory.limit: expected int64 (-9223372036854775808 to 9223372036854775807), got 18446744073709551615",
    );
    expect(messageOf(() => parseResourcesJson('{"blockIO":{"weightDevice":[{"major":8,"minor":0}]}}', "r.json"))).toBe("r.json: blockIO.weightDevice[0]: needs weight or leafWeight");
    expect(messageOf(() => parseResourcesJson("[]", "r.json"))).toBe("r.json: expected object, got an array");
  });
});

describe("parseStateJson", () => {
  const state = { ociVersion: "1.3.0", id: "c1", pid: 42, status: "running", bundle: "/b", rootfs: "/b/rootfs", created: "2024-01-01T00:00:00Z", owner: "" };

  test("runc's state shape validates", () => {
    expect(parseStateJson(JSON.stringify(state), "state") as unknown).toEqual(state);
  });

  test("unknown status and negative pid are refused", () => {
    expect(messageOf(() => parseStateJson(JSON.stringify({ ...state, status: "zombie" }), "state"))).toBe(
      'state: status: expected one of "creating", "created", "running", "paused", "stopped", got "zombie"',
    );
    expect(messageOf(() => parseStateJson(JSON.stringify({ ...state, pid: -1 }), "state"))).toBe("state: pid: expected a pid >= 0");
  });
});
