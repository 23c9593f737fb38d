// runtime-spec v1.3.0 config-linux.md "resources" (LinuxResources): linux.resources in
// config.json, and the whole document `update -r` reads.
import * as v from "valibot";
import { bool, int64, later, list, map, obj, oneOf, opt, str, stringMap, uint16, uint32, uint64 } from "./kinds.ts";
import { quote } from "../base/quote.ts";

export const DeviceRule = obj({
  allow: bool,
  type: opt(oneOf(["a", "b", "c"] as const)),
  major: opt(int64),
  minor: opt(int64),
  access: opt(v.pipe(str, v.regex(/^[rwm]*$/, (i) => `expected letters from "rwm", got ${quote(i.input)}`))),
});

export const Memory = later(() => obj({
  limit: opt(int64),
  reservation: opt(int64),
  swap: opt(int64),
  kernel: opt(int64),
  kernelTCP: opt(int64),
  swappiness: opt(uint64),
  disableOOMKiller: opt(bool),
  useHierarchy: opt(bool),
  checkBeforeUpdate: opt(bool),
}));

export const Cpu = later(() => obj({
  shares: opt(uint64),
  quota: opt(int64),
  burst: opt(uint64),
  period: opt(uint64),
  realtimeRuntime: opt(int64),
  realtimePeriod: opt(uint64),
  cpus: opt(str),
  mems: opt(str),
  idle: opt(int64),
}));

export const Pids = later(() => obj({
  limit: opt(int64), // -1 means no limit
}));

const BlockIODevice = { major: int64, minor: int64 };
export const WeightDevice = later(() => obj({ ...BlockIODevice, weight: opt(uint16), leafWeight: opt(uint16) }));
export const ThrottleDevice = later(() => obj({ ...BlockIODevice, rate: uint64 }));

export const BlockIO = later(() => obj({
  weight: opt(uint16),
  leafWeight: opt(uint16),
  weightDevice: opt(list(WeightDevice)),
  throttleReadBpsDevice: opt(list(ThrottleDevice)),
  throttleWriteBpsDevice: opt(list(ThrottleDevice)),
  throttleReadIOPSDevice: opt(list(ThrottleDevice)),
  throttleWriteIOPSDevice: opt(list(ThrottleDevice)),
}));

export const HugepageLimit = later(() => obj({ pageSize: str, limit: uint64 }));

export const Network = later(() => obj({
  classID: opt(uint32),
  priorities: opt(list(obj({ name: str, priority: uint32 }))),
}));

export const Rdma = later(() => obj({ hcaHandles: opt(uint32), hcaObjects: opt(uint32) }));

export const Resources = obj({
  devices: opt(list(DeviceRule)),
  memory: opt(Memory),
  cpu: opt(Cpu),
  pids: opt(Pids),
  blockIO: opt(BlockIO),
  hugepageLimits: opt(list(HugepageLimit)),
  network: opt(Network),
  rdma: opt(map(str, Rdma)),
  unified: opt(stringMap),
});

export type Resources = v.InferOutput<typeof Resources>;
