// The on-disk filter cache: keyed by everything the program depends on, written whole or not
// at all, and a damaged file is a miss, never a filter.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheKey, readCached, writeCached } from "../../src/seccomp/cache.ts";
import { compileSeccomp } from "../../src/seccomp/compile.ts";

const dir = mkdtempSync(join(tmpdir(), "bunrunc-seccomp-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const profile = (n: number) => ({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read", "write"], action: "SCMP_ACT_ALLOW" }, { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: n, op: "SCMP_CMP_EQ" }] }] });

describe("seccomp filter cache", () => {
  test("a compile writes <hash>.bpf (0600 in a 0700 dir) that reads back identical", () => {
    const cacheDir = join(dir, "a", ".seccomp-cache");
    const c = compileSeccomp(profile(1), "linux.seccomp", { cacheDir })!;
    const key = cacheKey(profile(1), "SCMP_ARCH_X86_64");
    expect(readdirSync(cacheDir)).toEqual([`${key}.bpf`]);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheDir, `${key}.bpf`)).mode & 0o777).toBe(0o600);
    const back = readCached(cacheDir, key)!;
    expect(back.program).toEqual(c.program);
    expect([back.flags, back.listener, back.instructions, back.longestPath, back.plainLongestPath]).toEqual([c.flags, c.listener, c.instructions, c.longestPath, c.plainLongestPath]);
  });

  test("the key follows the profile's content and the machine's architecture", () => {
    expect(cacheKey(profile(1), "SCMP_ARCH_X86_64")).toBe(cacheKey(JSON.parse(JSON.stringify(profile(1))), "SCMP_ARCH_X86_64"));
    expect(cacheKey(profile(1), "SCMP_ARCH_X86_64")).not.toBe(cacheKey(profile(2), "SCMP_ARCH_X86_64"));
    expect(cacheKey(profile(1), "SCMP_ARCH_X86_64")).not.toBe(cacheKey(profile(1), "SCMP_ARCH_AARCH64"));
    expect(cacheKey({ ...profile(1), big: 1n << 60n }, "SCMP_ARCH_X86_64")).toMatch(/^[0-9a-f]{64}$/);
  });

  test("a flipped bit, a cut file or a foreign file is a miss", () => {
    const cacheDir = join(dir, "b");
    const c = compileSeccomp(profile(3), "linux.seccomp")!;
    const key = cacheKey(profile(3), "SCMP_ARCH_X86_64");
    writeCached(cacheDir, key, c);
    const file = join(cacheDir, `${key}.bpf`);
    const good = readFileSync(file);
    expect(readCached(cacheDir, key)).toBeDefined();

    const flipped = Buffer.from(good);
    flipped[flipped.length - 3]! ^= 0x01;
    writeFileSync(file, flipped);
    expect(readCached(cacheDir, key)).toBeUndefined();

    writeFileSync(file, good);
    truncateSync(file, good.length - 8);
    expect(readCached(cacheDir, key)).toBeUndefined();

    writeFileSync(file, "not a filter at all, but long enough to have a header and a digest.....");
    expect(readCached(cacheDir, key)).toBeUndefined();
    expect(readCached(cacheDir, "0".repeat(64))).toBeUndefined();
  });

  test("an unwritable cache dir only costs the cache, with a debug line", () => {
    const blocker = join(dir, "file-not-dir");
    writeFileSync(blocker, "");
    const lines: string[] = [];
    const c = compileSeccomp(profile(4), "linux.seccomp", { cacheDir: join(blocker, "sub"), debug: (m) => lines.push(m) });
    expect(c!.instructions).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith("seccomp cache: cannot write"))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
