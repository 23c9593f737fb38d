// linux.memoryPolicy (runtime-spec 1.3): set_mempolicy in the init, so the container's process
// (and what exec runs in it) starts with the policy; read back inside with get_mempolicy by
// bunrunc-probe. A node the host lacks fails create in one line.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PROBE } from "../helpers/bundle.ts";
import { canRunContainers, cleanRuns, SKIP_REASON } from "./container-helper.ts";

const run = cleanRuns();
const numa = existsSync("/sys/devices/system/node/node0");
const SKIP = SKIP_REASON || (numa ? "" : " [skipped: this kernel has no NUMA nodes (CONFIG_NUMA)]") || (existsSync(PROBE) ? "" : " [skipped: bunrunc-probe is not built]");
const can = canRunContainers && numa && existsSync(PROBE);
/** One past the highest node this host has: not a node. */
const missingNode = Math.max(...readdirSync("/sys/devices/system/node").filter((n) => /^node\d+$/.test(n)).map((n) => Number(n.slice(4))), 0) + 1;

describe("linux.memoryPolicy", () => {
  test.skipIf(!can)(`MPOL_BIND on node 0 with MPOL_F_STATIC_NODES is the process's policy; without one it is MPOL_DEFAULT${SKIP}`, async () => {
    const bound = await run("/probe mempolicy", (s) => {
      s.linux!.memoryPolicy = { mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_STATIC_NODES"] };
    });
    expect(bound.code).toBe(0);
    // MPOL_BIND (2) | MPOL_F_STATIC_NODES (1 << 15); node mask 0x1.
    expect(bound.out.trim()).toBe(`mode=${2 | (1 << 15)} nodes=1`);
    const plain = await run("/probe mempolicy");
    expect(plain.out.trim()).toBe("mode=0 nodes=0");
  });

  test.skipIf(!can)(`MPOL_INTERLEAVE without flags${SKIP}`, async () => {
    const r = await run("/probe mempolicy", (s) => {
      s.linux!.memoryPolicy = { mode: "MPOL_INTERLEAVE", nodes: "0" };
    });
    expect(r.out.trim()).toBe("mode=3 nodes=1");
  });

  test.skipIf(!can)(`a node the host lacks fails create in one line naming the policy${SKIP}`, async () => {
    await expect(run("true", (s) => (s.linux!.memoryPolicy = { mode: "MPOL_BIND", nodes: String(missingNode) }))).rejects.toThrow(
      `create: set memory policy MPOL_BIND nodes ${missingNode}: invalid argument`,
    );
  });
});
