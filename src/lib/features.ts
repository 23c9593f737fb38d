// `bunrunc features`: the runtime-spec features document (features.md, features-linux.md).
// Engines (containerd's shim, podman) read it to learn what this runtime understands, so every
// entry says true, or lists a name, only where bunrunc really implements it.
//
// SUPPORT below is the one place to update when a capability lands: flip the flag or fill the
// list in the same commit that makes it work. Names that other modules already own (namespaces,
// capabilities, mount options) are read from those modules, never copied here.
import pkg from "../../package.json" with { type: "json" };
import { CAPABILITIES, NAMESPACE_FLAGS } from "../plan/linux.ts";
import { parseMountOptions } from "../plan/mount-options.ts";
import { MPOL_FLAGS, MPOL_MODES } from "../plan/process-ops.ts";
import { systemdReachable } from "../cgroups/paths.ts";

export const SUPPORT = {
  /** All six lifecycle hooks run (src/lib/hooks.ts, src/plan/compile.ts). */
  hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
  /**
   * Cgroup drivers (src/cgroups): v1 and v2 with every linux.resources field, rdma included.
   * systemd: the D-Bus driver (src/cgroups/systemd), claimed where a systemd can be reached
   * (features() asks the host); elsewhere --systemd-cgroup fails in one line. No user instance.
   */
  cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
  /**
   * linux.seccomp, compiled by src/seccomp and loaded by the init; SCMP_ACT_NOTIFY hands the
   * listener to listenerPath at create and at exec.
   */
  seccomp: {
    enabled: true,
    actions: [
      "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
      "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
    ],
    operators: ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
    archs: ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    knownFlags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
    /** Flags the kernel must also support; all four exist since Linux 5.19. */
    supportedFlags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
  },
  apparmor: false,
  /** process.selinuxLabel and linux.mountLabel are applied where SELinux is enabled, refused where not. */
  selinux: true,
  intelRdt: { enabled: false, schemata: false, enableMonitoring: false },
  /** Mount uidMappings/gidMappings and the idmap/ridmap options: bind mounts idmapped on the host side (src/lib/idmap.ts). */
  idmapMounts: true,
  /** linux.netDevices: moved in at create, addresses kept, moved back at delete (src/lib/netdev.ts). */
  netDevices: true,
  /** linux.memoryPolicy: set_mempolicy in the init (every mode and flag of src/plan/process-ops.ts). */
  memoryPolicy: true,
  /**
   * checkpoint/restore through the criu binary (--criu, src/lib/criu.ts); runc's features
   * carry the same fact as org.opencontainers.runc.checkpoint.enabled.
   */
  checkpoint: true,
  /** config.json annotations that weaken isolation: bunrunc interprets none. */
  unsafeAnnotations: [] as string[],
};

/**
 * Every mount option name runc, crun or mount(8) accept; the document lists those that
 * parseMountOptions recognizes (does not pass through as filesystem data), so it follows that
 * module without copying its tables.
 */
const MOUNT_OPTION_CANDIDATES = [
  "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud", "mand",
  "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime",
  "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec",
  "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro",
  "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable",
  "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable",
  "idmap", "ridmap",
];

function recognizedMountOptions(): string[] {
  return MOUNT_OPTION_CANDIDATES.filter((o) => {
    try {
      return parseMountOptions([o]).data === "";
    } catch {
      return false;
    }
  }).sort();
}

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: Record<string, unknown>;
  annotations: Record<string, string>;
  potentiallyUnsafeConfigAnnotations: string[];
}

export function features(): Features {
  const s = SUPPORT;
  const seccomp = s.seccomp.enabled
    ? { ...s.seccomp, actions: [...s.seccomp.actions], operators: [...s.seccomp.operators] }
    : { enabled: false };
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: "1.3.0",
    hooks: [...s.hooks],
    mountOptions: recognizedMountOptions(),
    linux: {
      namespaces: Object.keys(NAMESPACE_FLAGS),
      capabilities: [...CAPABILITIES],
      cgroup: { ...s.cgroup, systemd: s.cgroup.systemd && systemdReachable() },
      seccomp,
      apparmor: { enabled: s.apparmor },
      selinux: { enabled: s.selinux },
      intelRdt: { ...s.intelRdt },
      mountExtensions: { idmap: { enabled: s.idmapMounts } },
      netDevices: { enabled: s.netDevices },
      ...(s.memoryPolicy ? { memoryPolicy: { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS) } } : {}),
    },
    annotations: {
      "io.github.bunrunc.version": pkg.version,
      "io.github.bunrunc.bun.version": Bun.version,
      "io.github.bunrunc.ociVersion": "1.3.0",
      "io.github.bunrunc.checkpoint.enabled": String(s.checkpoint),
    },
    potentiallyUnsafeConfigAnnotations: [...s.unsafeAnnotations],
  };
}

/** The document as `runc features` prints it: indented JSON and a newline. */
export function featuresJson(): string {
  return `${JSON.stringify(features(), null, 4)}\n`;
}
