// The subset of a validated runtime-spec config that the lifecycle reads. Structural on purpose:
// the validated Spec of src/config (int64 fields may be bigint) is assignable to it, and tests can
// write plain objects.

import type { Config, Int } from "../config/schema.ts";

export type { Int };

// Compile-time proof that a validated config is what the plan compiler reads.
const _configIsSpec = (c: Config): Spec => c;
void _configIsSpec;

export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

export interface IdMapping {
  containerID: Int;
  hostID: Int;
  size: Int;
}

export interface SpecHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: Int;
}

export interface SpecHooks {
  prestart?: SpecHook[];
  createRuntime?: SpecHook[];
  createContainer?: SpecHook[];
  startContainer?: SpecHook[];
  poststart?: SpecHook[];
  poststop?: SpecHook[];
}

export interface SpecDevice {
  type: string;
  path: string;
  major?: Int;
  minor?: Int;
  fileMode?: Int;
  uid?: Int;
  gid?: Int;
}

export interface SpecProcess {
  terminal?: boolean;
  consoleSize?: { height: Int; width: Int };
  cwd: string;
  env?: string[];
  args?: string[];
  user: { uid: Int; gid: Int; umask?: Int; additionalGids?: Int[]; username?: string };
  capabilities?: {
    bounding?: string[];
    effective?: string[];
    permitted?: string[];
    inheritable?: string[];
    ambient?: string[];
  };
  rlimits?: { type: string; soft: Int; hard: Int }[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: Int;
  scheduler?: {
    policy: string;
    nice?: Int;
    priority?: Int;
    flags?: string[];
    runtime?: Int;
    deadline?: Int;
    period?: Int;
  };
  ioPriority?: { class: string; priority?: Int };
  apparmorProfile?: string;
  selinuxLabel?: string;
  /** CPU lists ("0-3,7"): `initial` before the init joins its cgroup, `final` for the process. */
  execCPUAffinity?: { initial?: string; final?: string };
}

export interface SpecLinux {
  /** Host interfaces moved into the container's network namespace (runtime-spec 1.3), renamed when `name` is given. */
  netDevices?: Record<string, { name?: string }>;
  memoryPolicy?: { mode: string; nodes?: string; flags?: string[] };
  namespaces?: { type: string; path?: string }[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  timeOffsets?: Record<string, { secs?: Int; nanosecs?: Int }>;
  devices?: SpecDevice[];
  cgroupsPath?: string;
  resources?: unknown;
  rootfsPropagation?: string;
  seccomp?: unknown;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  personality?: { domain: string; flags?: string[] };
  mountLabel?: string;
}

export interface Spec {
  ociVersion: string;
  root?: { path: string; readonly?: boolean };
  mounts?: SpecMount[];
  process?: SpecProcess;
  hostname?: string;
  domainname?: string;
  hooks?: SpecHooks;
  annotations?: Record<string, string>;
  linux?: SpecLinux;
}
