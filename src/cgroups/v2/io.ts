// v2 io: weights (io.bfq.weight on the blkio scale when BFQ is there, else io.weight converted
// from [10,1000] to [1,10000] as runc does), io.max throttles; stats from io.stat.
import type { Controller } from "../controller.ts";
import { hasFile, readControl, writeControl } from "../files.ts";
import type { BlkioEntry, Stats } from "../stats.ts";
import { big, blockIoWants, CgroupError, FIELD, isSet, type Resources } from "../types.ts";

const F = `${FIELD}.blockIO`;

export function blkioToIoWeight(w: bigint): bigint {
  return w === 0n ? 0n : 1n + ((w - 10n) * 9999n) / 990n;
}

const THROTTLES = [
  ["throttleReadBpsDevice", "rbps"],
  ["throttleWriteBpsDevice", "wbps"],
  ["throttleReadIOPSDevice", "riops"],
  ["throttleWriteIOPSDevice", "wiops"],
] as const;

function writeWeight(dir: string, device: string, weight: bigint, field: string): void {
  if (hasFile(dir, "io.bfq.weight")) writeControl(dir, "io.bfq.weight", `${device} ${weight}`, field);
  else writeControl(dir, "io.weight", `${device} ${blkioToIoWeight(weight)}`, field);
}

function apply(dir: string, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  if (isSet(b.leafWeight)) throw new CgroupError(`${F}.leafWeight`, "cgroup v2 has no leaf weight");
  if (isSet(b.weight)) writeWeight(dir, "default", big(b.weight), `${F}.weight`);
  (b.weightDevice ?? []).forEach((d, i) => {
    if (isSet(d.leafWeight)) throw new CgroupError(`${F}.weightDevice[${i}].leafWeight`, "cgroup v2 has no leaf weight");
    if (isSet(d.weight)) writeWeight(dir, `${d.major}:${d.minor}`, big(d.weight), `${F}.weightDevice[${i}].weight`);
  });
  for (const [key, name] of THROTTLES) {
    (b[key] ?? []).forEach((d, i) => writeControl(dir, "io.max", `${d.major}:${d.minor} ${name}=${d.rate}`, `${F}.${key}[${i}]`));
  }
}

/** io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
function stats(dir: string, s: Stats): void {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (readControl(dir, "io.stat") ?? "").split("\n")) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? "");
    if (!m) continue;
    const major = BigInt(m[1]!);
    const minor = BigInt(m[2]!);
    const v = Object.fromEntries(kv.map((p) => p.split("=") as [string, string]));
    const push = (list: BlkioEntry[], op: string, key: string) => {
      if (v[key] !== undefined) list.push({ major, minor, op, value: BigInt(v[key]) });
    };
    push(bytes, "Read", "rbytes");
    push(bytes, "Write", "wbytes");
    push(ios, "Read", "rios");
    push(ios, "Write", "wios");
  }
  s.blkio.ioServiceBytesRecursive = bytes;
  s.blkio.ioServicedRecursive = ios;
}

export const io: Controller = {
  name: "io",
  wants: blockIoWants,
  apply,
  stats,
};
