// linux.netDevices (runtime-spec 1.3): a host interface the test makes (a dummy where the kernel
// has the module, else one end of a veth pair) moves into the container's network namespace,
// renamed, with its address and up state; delete brings it back under its host name with its
// address; a create that cannot move every device leaves none moved and nothing behind.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import { canRunFront, front, FRONT_SKIP, PATHS, pathSkip, pathTest } from "../helpers/front.ts";
import { canRunContainers, SKIP_REASON } from "./container-helper.ts";

const IP = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].find((p) => existsSync(p));

function ip(...args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync([IP!, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

/** Why no test interface can be made here ("" when one can: a dummy, or a veth pair). */
function interfaceReason(): string {
  if (SKIP_REASON) return SKIP_REASON;
  if (!IP) return " [skipped: iproute2 (ip) is not installed]";
  const name = `brt${process.pid % 100000}probe`;
  for (const kind of [["dummy"], ["veth", "peer", "name", `${name}p`]]) {
    if (ip("link", "add", name, "type", ...kind).code === 0) {
      ip("link", "del", name);
      return "";
    }
  }
  return " [skipped: this kernel makes neither dummy nor veth interfaces]";
}
const SKIP = interfaceReason();
const can = !SKIP;

let counter = 0;
const made: string[] = [];
const bundles: TestBundle[] = [];
afterEach(() => {
  for (const name of made.splice(0)) ip("link", "del", name);
  for (const b of bundles.splice(0)) b.cleanup();
});

/** A host interface with an address, up: a dummy, or a veth end (its peer stays on the host). */
function hostInterface(address: string): string {
  const name = `brt${process.pid % 100000}x${counter++}`;
  if (ip("link", "add", name, "type", "dummy").code !== 0) {
    const r = ip("link", "add", name, "type", "veth", "peer", "name", `${name}p`);
    if (r.code !== 0) throw new Error(`ip link add ${name}: ${r.out}`);
  }
  made.push(name);
  expect(ip("addr", "add", address, "dev", name).code).toBe(0);
  expect(ip("link", "set", name, "up").code).toBe(0);
  return name;
}

const onHost = (name: string) => ip("addr", "show", "dev", name);

function bundleWith(devices: Record<string, { name?: string }>, args: string[]): { b: TestBundle; out: string } {
  const spec = defaultSpec(args);
  const b = makeBundle(spec);
  bundles.push(b);
  const out = join(b.dir, "out");
  mkdirSync(out);
  chmodSync(out, 0o777);
  spec.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
  spec.linux!.netDevices = devices;
  b.writeSpec(spec);
  return { b, out };
}

describe("linux.netDevices", () => {
  test.skipIf(!can)(`moved in renamed with its address and up, moved back on delete with its address${SKIP}`, async () => {
    const dev = hostInterface("10.254.71.1/24");
    const { b, out } = bundleWith({ [dev]: { name: "eth7" } }, ["sleep", "60"]);
    const id = uniqueId("netdev");
    await bunrunc.create({ root: b.root, id, bundle: b.bundle });
    try {
      expect(onHost(dev).code).not.toBe(0);
      const code = await bunrunc.exec({ root: b.root, id, args: ["sh", "-c", "ip addr show eth7 > /out/stdout 2>&1; cat /sys/class/net/eth7/flags >> /out/stdout"] });
      expect(code).toBe(0);
      const inside = readFileSync(join(out, "stdout"), "utf8");
      expect(inside).toContain("inet 10.254.71.1/24");
      // IFF_UP (bit 0) in the interface flags.
      expect(Number(inside.trim().split("\n").at(-1)) & 1).toBe(1);
    } finally {
      await bunrunc.delete({ root: b.root, id, force: true });
    }
    const back = onHost(dev);
    expect(back.code).toBe(0);
    expect(back.out).toContain("inet 10.254.71.1/24");
  });

  test.skipIf(!can)(`a device that cannot be moved fails create in one line; the one already moved is back, nothing is left${SKIP}`, async () => {
    const dev = hostInterface("10.254.72.1/24");
    const missing = `brt${process.pid % 100000}none`;
    const { b } = bundleWith({ [dev]: {}, [missing]: { name: "eth9" } }, ["sleep", "60"]);
    const id = uniqueId("netdev");
    await expect(bunrunc.create({ root: b.root, id, bundle: b.bundle })).rejects.toThrow(`create: linux.netDevices["${missing}"]: find the interface: no such device`);
    expect(onHost(dev).out).toContain("inet 10.254.72.1/24");
    expect(bunrunc.list({ root: b.root })).toEqual([]);
  });

  for (const path of PATHS) {
    // pathTest may already be test.skip (no SO_PEERPIDFD), which takes no skipIf.
    (!can || !canRunFront ? test.skip : pathTest(path))(`through dist/bunrunc (${path}): in at create, back at delete${pathSkip(path)}${SKIP}${FRONT_SKIP}`, () => {
      const dev = hostInterface("10.254.73.1/24");
      const mac = readFileSync(`/sys/class/net/${dev}/address`, "utf8").trim();
      const { b } = bundleWith({ [dev]: { name: "eth8" } }, ["sleep", "60"]);
      const id = uniqueId("netdev");
      const created = front(path, ["--root", b.root, "create", "--bundle", b.bundle, id], { detaches: true });
      expect(created.code).toBe(0);
      try {
        expect(onHost(dev).code).not.toBe(0);
        const inside = front(path, ["--root", b.root, "exec", id, "cat", "/sys/class/net/eth8/address"]);
        expect(inside.stdout.trim()).toBe(mac);
      } finally {
        expect(front(path, ["--root", b.root, "delete", "--force", id]).code).toBe(0);
      }
      expect(onHost(dev).out).toContain("inet 10.254.73.1/24");
    });
  }
});
