// runtime-spec v1.3.0 config-linux.md: the "linux" object, seccomp included.
import * as v from "valibot";
import { bool, CPU_LIST, int64, later, list, map, obj, oneOf, opt, str, stringMap, strings, uint32, uint64 } from "./kinds.ts";
import { Resources } from "./schema-resources.ts";
import { quote } from "../base/quote.ts";

export const NAMESPACE_TYPES = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"] as const;

export const SECCOMP_ACTIONS = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
] as const;

export const SECCOMP_ARCHES = [
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
] as const;

export const SECCOMP_FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
] as const;

export const SECCOMP_OPERATORS = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"] as const;

/** runc also takes the recursive spellings and "" (no change); the spec lists the first four. */
export const ROOTFS_PROPAGATIONS = ["private", "shared", "slave", "unbindable", "rprivate", "rshared", "rslave", "runbindable", ""] as const;

export const MEMORY_POLICY_MODES = [
  "MPOL_DEFAULT",
  "MPOL_BIND",
  "MPOL_INTERLEAVE",
  "MPOL_WEIGHTED_INTERLEAVE",
  "MPOL_PREFERRED",
  "MPOL_PREFERRED_MANY",
  "MPOL_LOCAL",
] as const;

export const MEMORY_POLICY_FLAGS = ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"] as const;

/** The clocks a time namespace can offset (time_namespaces(7)). */
export const TIME_NAMESPACE_CLOCKS = ["monotonic", "boottime"] as const;

export const IdMapping = later(() => obj({ containerID: uint32, hostID: uint32, size: uint32 }));

export const Namespace = obj({ type: oneOf(NAMESPACE_TYPES), path: opt(str) });

export const Device = later(() => obj({
  type: oneOf(["c", "b", "u", "p"] as const),
  path: str,
  major: opt(int64),
  minor: opt(int64),
  fileMode: opt(uint32),
  uid: opt(uint32),
  gid: opt(uint32),
}));

export const SyscallArg = later(() => obj({
  index: uint32,
  value: uint64,
  valueTwo: opt(uint64),
  op: oneOf(SECCOMP_OPERATORS),
}));

export const Syscall = later(() => obj({
  names: v.pipe(strings, v.minLength(1, "must contain at least one syscall name")),
  action: oneOf(SECCOMP_ACTIONS),
  errnoRet: opt(uint32),
  args: opt(list(SyscallArg)),
}));

export const Seccomp = later(() => obj({
  defaultAction: oneOf(SECCOMP_ACTIONS),
  defaultErrnoRet: opt(uint32),
  architectures: opt(list(oneOf(SECCOMP_ARCHES))),
  flags: opt(list(oneOf(SECCOMP_FLAGS))),
  listenerPath: opt(str),
  listenerMetadata: opt(str),
  syscalls: opt(list(Syscall)),
}));

export const IntelRdt = later(() => obj({
  closID: opt(str),
  l3CacheSchema: opt(str),
  memBwSchema: opt(str),
  schemata: opt(strings),
  enableMonitoring: opt(bool),
  // runtime-spec 1.1/1.2 spellings, still sent by older clients
  enableCMT: opt(bool),
  enableMBM: opt(bool),
}));

export const MemoryPolicy = later(() => obj({
  mode: oneOf(MEMORY_POLICY_MODES),
  nodes: opt(v.pipe(str, v.regex(CPU_LIST, (i) => `expected a node list like "0-3,7", got ${quote(i.input)}`))),
  flags: opt(list(oneOf(MEMORY_POLICY_FLAGS))),
}));

export const Personality = later(() => obj({
  domain: oneOf(["LINUX", "LINUX32"] as const),
  flags: opt(strings),
}));

export const Linux = obj({
  namespaces: opt(list(Namespace)),
  uidMappings: opt(list(IdMapping)),
  gidMappings: opt(list(IdMapping)),
  timeOffsets: opt(later(() => map(oneOf(TIME_NAMESPACE_CLOCKS), obj({ secs: opt(int64), nanosecs: opt(uint32) })))),
  devices: opt(list(Device)),
  netDevices: opt(later(() => map(str, obj({ name: opt(str) })))),
  cgroupsPath: opt(str),
  resources: opt(Resources),
  intelRdt: opt(IntelRdt),
  memoryPolicy: opt(MemoryPolicy),
  personality: opt(Personality),
  sysctl: opt(stringMap),
  seccomp: opt(Seccomp),
  rootfsPropagation: opt(oneOf(ROOTFS_PROPAGATIONS)),
  maskedPaths: opt(strings),
  readonlyPaths: opt(strings),
  mountLabel: opt(str),
});

export type Linux = v.InferOutput<typeof Linux>;
export type Seccomp = v.InferOutput<typeof Seccomp>;
