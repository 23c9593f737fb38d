// runtime-spec v1.3.0 config.md "process" (POSIX/Linux fields), also the shape of exec's
// process.json. Cross-field rules (absolute cwd, duplicate rlimits, ...) live in semantics.ts.
import * as v from "valibot";
import { bool, CPU_LIST, goUint, int32, integer, later, list, obj, oneOf, opt, str, strings, uint32, uint64 } from "./kinds.ts";
import { quote } from "../base/quote.ts";

export const RLIMIT_TYPES = [
  "RLIMIT_AS",
  "RLIMIT_CORE",
  "RLIMIT_CPU",
  "RLIMIT_DATA",
  "RLIMIT_FSIZE",
  "RLIMIT_LOCKS",
  "RLIMIT_MEMLOCK",
  "RLIMIT_MSGQUEUE",
  "RLIMIT_NICE",
  "RLIMIT_NOFILE",
  "RLIMIT_NPROC",
  "RLIMIT_RSS",
  "RLIMIT_RTPRIO",
  "RLIMIT_RTTIME",
  "RLIMIT_SIGPENDING",
  "RLIMIT_STACK",
] as const;

export const SCHEDULER_POLICIES = ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"] as const;

export const SCHEDULER_FLAGS = [
  "SCHED_FLAG_RESET_ON_FORK",
  "SCHED_FLAG_RECLAIM",
  "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY",
  "SCHED_FLAG_KEEP_PARAMS",
  "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
] as const;

export const IOPRIO_CLASSES = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"] as const;

const cpuList = v.pipe(str, v.regex(CPU_LIST, (i) => `expected a CPU list like "0-3,7", got ${quote(i.input)}`));

export const User = obj({
  uid: uint32,
  gid: uint32,
  umask: opt(uint32),
  additionalGids: opt(list(uint32)),
  username: opt(str),
});

export const Capabilities = obj({
  bounding: opt(strings),
  effective: opt(strings),
  inheritable: opt(strings),
  permitted: opt(strings),
  ambient: opt(strings),
});

export const Rlimit = obj({
  type: oneOf(RLIMIT_TYPES),
  soft: uint64,
  hard: uint64,
});

export const Scheduler = later(() => obj({
  policy: oneOf(SCHEDULER_POLICIES),
  nice: opt(int32),
  priority: opt(int32),
  flags: opt(list(oneOf(SCHEDULER_FLAGS))),
  runtime: opt(uint64),
  deadline: opt(uint64),
  period: opt(uint64),
}));

export const IoPriority = later(() => obj({
  class: oneOf(IOPRIO_CLASSES),
  // The spec marks it REQUIRED, but runc (Go, no omitempty) reads a missing one as 0; so do we.
  priority: opt(integer("I/O priority", 0n, 7n)),
}));

export const ExecCPUAffinity = later(() => obj({
  initial: opt(cpuList),
  final: opt(cpuList),
}));

export const Process = obj({
  terminal: opt(bool),
  consoleSize: opt(later(() => obj({ height: goUint, width: goUint }))),
  user: User,
  args: opt(strings),
  commandLine: opt(str),
  env: opt(strings),
  cwd: str,
  capabilities: opt(Capabilities),
  rlimits: opt(list(Rlimit)),
  noNewPrivileges: opt(bool),
  apparmorProfile: opt(str),
  oomScoreAdj: opt(integer("oom_score_adj", -1000n, 1000n)),
  scheduler: opt(Scheduler),
  selinuxLabel: opt(str),
  ioPriority: opt(IoPriority),
  execCPUAffinity: opt(ExecCPUAffinity),
});

export type Process = v.InferOutput<typeof Process>;
