// Docker's seccomp profile format (moby profiles/seccomp/default.json) -> the runtime-spec
// linux.seccomp that dockerd hands to the runtime, for a given architecture, capability set and
// kernel: archMap picks the native arch and its sub-arches; a rule is kept when its `includes`
// all match (caps, arches, minKernel) and none of its `excludes` do.

type Obj = Record<string, unknown>;

export interface MobyTarget {
  /** Go's GOARCH naming, as the profile's includes/excludes use: amd64, arm64, ... */
  goarch: string;
  /** The SCMP_ARCH_* of that machine. */
  scmpArch: string;
  caps: string[];
  kernel: [number, number];
}

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

function kernelAtLeast(min: string, k: [number, number]): boolean {
  const [maj, minor] = min.split(".").map(Number) as [number, number];
  return k[0] > maj || (k[0] === maj && k[1] >= minor);
}

function matches(f: Obj | undefined, t: MobyTarget, all: boolean): boolean {
  if (!f) return all;
  const tests: boolean[] = [];
  const caps = f.caps as string[] | undefined;
  const arches = f.arches as string[] | undefined;
  if (caps?.length) tests.push(all ? caps.every((c) => t.caps.includes(c)) : caps.some((c) => t.caps.includes(c)));
  if (arches?.length) tests.push(arches.includes(t.goarch));
  if (typeof f.minKernel === "string" && f.minKernel) tests.push(kernelAtLeast(f.minKernel, t.kernel));
  return all ? tests.every(Boolean) : tests.some(Boolean);
}

export function mobyToSpec(profile: Obj, t: MobyTarget): Obj {
  const archMap = (profile.archMap as { architecture: string; subArchitectures: string[] | null }[]) ?? [];
  const native = archMap.find((a) => a.architecture === t.scmpArch);
  const syscalls = (profile.syscalls as Obj[])
    .filter((s) => matches(s.includes as Obj | undefined, t, true) && !matches(s.excludes as Obj | undefined, t, false))
    .map((s) => ({ names: s.names, action: s.action, args: s.args ?? [], ...(s.errnoRet === undefined ? {} : { errnoRet: s.errnoRet }) }));
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet === undefined ? {} : { defaultErrnoRet: profile.defaultErrnoRet }),
    architectures: native ? [native.architecture, ...(native.subArchitectures ?? [])] : [],
    syscalls,
  };
}
