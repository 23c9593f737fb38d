// v1 blkio: weight (blkio.weight, or BFQ's blkio.bfq.weight when CFQ is gone), leaf weight,
// per-device weights and throttles; stats from the throttle (and BFQ) counters.
import type { Controller } from "../controller.ts";
import { hasFile, readControl, writeControl } from "../files.ts";
import { BLKIO_KEYS, type BlkioEntry, type BlkioKey, type Stats } from "../stats.ts";
import { big, blockIoWants, CgroupError, FIELD, isSet, type Resources, type ThrottleDevice } from "../types.ts";

const F = `${FIELD}.blockIO`;

function weightFile(dir: string, plain: string, bfq: string, field: string): string {
  if (hasFile(dir, plain)) return plain;
  if (hasFile(dir, bfq)) return bfq;
  throw new CgroupError(field, `this kernel has no ${plain} (nor ${bfq}): no proportional I/O scheduler`);
}

const THROTTLES = [
  ["throttleReadBpsDevice", "blkio.throttle.read_bps_device"],
  ["throttleWriteBpsDevice", "blkio.throttle.write_bps_device"],
  ["throttleReadIOPSDevice", "blkio.throttle.read_iops_device"],
  ["throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"],
] as const;

function apply(dir: string, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  if (isSet(b.weight)) writeControl(dir, weightFile(dir, "blkio.weight", "blkio.bfq.weight", `${F}.weight`), big(b.weight), `${F}.weight`);
  if (isSet(b.leafWeight)) writeControl(dir, "blkio.leaf_weight", big(b.leafWeight), `${F}.leafWeight`);
  (b.weightDevice ?? []).forEach((d, i) => {
    const field = `${F}.weightDevice[${i}]`;
    if (isSet(d.weight)) writeControl(dir, weightFile(dir, "blkio.weight_device", "blkio.bfq.weight_device", field), `${d.major}:${d.minor} ${d.weight}`, `${field}.weight`);
    if (isSet(d.leafWeight)) writeControl(dir, "blkio.leaf_weight_device", `${d.major}:${d.minor} ${d.leafWeight}`, `${field}.leafWeight`);
  });
  for (const [key, file] of THROTTLES) {
    (b[key] ?? []).forEach((d: ThrottleDevice, i: number) => writeControl(dir, file, `${d.major}:${d.minor} ${d.rate}`, `${F}.${key}[${i}]`));
  }
}

/** "8:0 Read 4096" lines (and a "Total" line, skipped). */
function entries(text: string | null): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? "").split("\n")) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? "");
    if (!dev) continue;
    const [op, value] = f.length === 3 ? [f[1]!, f[2]!] : ["", f[1]!];
    out.push({ major: BigInt(dev[1]!), minor: BigInt(dev[2]!), op, value: BigInt(value ?? 0) });
  }
  return out;
}

/** runc reads the CFQ files when present, else the throttle ones (BFQ when CFQ is gone). */
const SOURCES: Partial<Record<BlkioKey, string[]>> = {
  ioServiceBytesRecursive: ["blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"],
  ioServicedRecursive: ["blkio.io_serviced_recursive", "blkio.bfq.io_serviced_recursive", "blkio.throttle.io_serviced_recursive"],
  ioQueueRecursive: ["blkio.io_queued_recursive"],
  ioServiceTimeRecursive: ["blkio.io_service_time_recursive"],
  ioWaitTimeRecursive: ["blkio.io_wait_time_recursive"],
  ioMergedRecursive: ["blkio.io_merged_recursive"],
  ioTimeRecursive: ["blkio.time_recursive"],
  sectorsRecursive: ["blkio.sectors_recursive"],
};

function stats(dir: string, s: Stats): void {
  for (const key of BLKIO_KEYS) {
    const file = (SOURCES[key] ?? []).find((f) => hasFile(dir, f));
    if (file) s.blkio[key] = entries(readControl(dir, file));
  }
}

export const blkio: Controller = {
  name: "blkio",
  wants: blockIoWants,
  apply,
  stats,
};
