// config.json `process` (+ linux.personality, linux.memoryPolicy) -> the ops that shape the container process.
import { CompileError } from "./mounts.ts";
import { CAPABILITIES, IOPRIO_CLASSES, PERSONALITY_DOMAINS, RLIMITS, SCHED_FLAGS, SCHED_POLICIES } from "./linux.ts";
import type { SpecLinux, SpecProcess } from "../config/types.ts";
import { Op, type PlanWriter } from "./wire.ts";
import { quote } from "../base/quote.ts";

// runc sets 0022 when the config has no umask; containers inherit nothing from the runtime.
const UMASK_DEFAULT = 0o022;

/** Capability names -> bit mask. Unknown names are returned for a warning (runc ignores them too). */
export function capMask(names: readonly string[] | undefined, unknown: string[]): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const bit = CAPABILITIES.indexOf(name.toUpperCase());
    if (bit < 0) unknown.push(name);
    else mask |= 1n << BigInt(bit);
  }
  return mask;
}

export function emitRlimits(w: PlanWriter, p: SpecProcess): void {
  (p.rlimits ?? []).forEach((r, i) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new CompileError(`process.rlimits[${i}].type: unknown rlimit ${quote(r.type)}`);
    w.op(Op.Rlimit, `set ${r.type}`).u32(resource).u64(r.soft).u64(r.hard);
  });
}

export function emitScheduling(w: PlanWriter, p: SpecProcess, linux: SpecLinux | undefined): void {
  if (p.oomScoreAdj !== undefined) w.op(Op.OomScoreAdj, "write /proc/self/oom_score_adj").i32(Number(p.oomScoreAdj));
  const s = p.scheduler;
  if (s) {
    const policy = SCHED_POLICIES[s.policy];
    if (policy === undefined) throw new CompileError(`process.scheduler.policy: unknown policy ${quote(s.policy)}`);
    let flags = 0;
    for (const f of s.flags ?? []) {
      const bit = SCHED_FLAGS[f];
      if (bit === undefined) throw new CompileError(`process.scheduler.flags: unknown flag ${quote(f)}`);
      flags |= bit;
    }
    w.op(Op.Scheduler, `set scheduler ${s.policy}`)
      .u32(policy)
      .i32(Number(s.nice ?? 0))
      .u32(Number(s.priority ?? 0))
      .u64(flags)
      .u64(s.runtime ?? 0)
      .u64(s.deadline ?? 0)
      .u64(s.period ?? 0);
  }
  const io = p.ioPriority;
  if (io) {
    const cls = IOPRIO_CLASSES[io.class];
    if (cls === undefined) throw new CompileError(`process.ioPriority.class: unknown class ${quote(io.class)}`);
    w.op(Op.IoPriority, `set I/O priority ${io.class}`).u32(cls).u32(Number(io.priority ?? 0));
  }
  const persona = linux?.personality;
  if (persona) {
    const domain = PERSONALITY_DOMAINS[persona.domain];
    if (domain === undefined) throw new CompileError(`linux.personality.domain: unknown domain ${quote(persona.domain)}`);
    w.op(Op.Personality, `set personality ${persona.domain}`).u32(domain);
  }
  const mp = linux?.memoryPolicy;
  if (mp) {
    const mode = MPOL_MODES[mp.mode];
    if (mode === undefined) throw new CompileError(`linux.memoryPolicy.mode: unknown mode ${quote(mp.mode)}`);
    let flags = 0;
    for (const f of mp.flags ?? []) {
      const bit = MPOL_FLAGS[f];
      if (bit === undefined) throw new CompileError(`linux.memoryPolicy.flags: unknown flag ${quote(f)}`);
      flags |= bit;
    }
    const nodes = mp.nodes ? cpuMask(mp.nodes, "linux.memoryPolicy.nodes") : new Uint8Array(0);
    w.op(Op.MemPolicy, `set memory policy ${mp.mode}${mp.nodes ? ` nodes ${mp.nodes}` : ""}`).u32(mode | flags).bytes(nodes);
  }
}

/** set_mempolicy modes and mode flags (linux/mempolicy.h). */
export const MPOL_MODES: Readonly<Record<string, number>> = {
  MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4, MPOL_PREFERRED_MANY: 5, MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAGS: Readonly<Record<string, number>> = {
  MPOL_F_NUMA_BALANCING: 1 << 13, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_STATIC_NODES: 1 << 15,
};

export function emitIdentity(w: PlanWriter, p: SpecProcess, unknownCaps: string[]): void {
  const u = p.user;
  const gids = new Uint8Array(4 * (u.additionalGids?.length ?? 0));
  const view = new DataView(gids.buffer);
  (u.additionalGids ?? []).forEach((g, i) => view.setUint32(i * 4, Number(g), true));
  const c = p.capabilities;
  w.op(Op.Identity, `set user ${u.uid}:${u.gid} and capabilities`)
    .u32(Number(u.uid))
    .u32(Number(u.gid))
    .bytes(gids)
    .u32(u.umask === undefined ? UMASK_DEFAULT : Number(u.umask))
    .u64(capMask(c?.bounding, unknownCaps))
    .u64(capMask(c?.effective, unknownCaps))
    .u64(capMask(c?.permitted, unknownCaps))
    .u64(capMask(c?.inheritable, unknownCaps))
    .u64(capMask(c?.ambient, unknownCaps))
    .u32(p.noNewPrivileges ? 1 : 0);
}

export function emitExecTarget(w: PlanWriter, p: SpecProcess, extraEnv: readonly string[]): void {
  const args = p.args ?? [];
  if (args.length === 0) throw new CompileError("process.args: must contain at least one entry");
  w.op(Op.Chdir, `chdir to ${p.cwd}`).str(p.cwd);
  w.op(Op.ResolveExec, `find executable ${args[0]}`)
    .str(args[0]!)
    .strs(args)
    .strs([...(p.env ?? []), ...extraEnv]);
}

const CPUS_MAX = 8192;

/** "0-3,7" -> a cpu_set_t bitmask (whole u64 words, as the kernel reads it). */
export function cpuMask(list: string, where: string): Uint8Array {
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    const lo = Number(m?.[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!m || hi < lo || hi >= CPUS_MAX) throw new CompileError(`${where}: invalid CPU list ${quote(list)}`);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  const bytes = new Uint8Array(Math.ceil((Math.max(...cpus) + 1) / 64) * 8);
  for (const c of cpus) bytes[c >> 3]! |= 1 << (c & 7);
  return bytes;
}

/**
 * The container's init does not inherit the runtime's CPU affinity: after the cgroup join it is
 * reset to every CPU (the kernel keeps it within the cpuset), as runc does. execCPUAffinity is
 * not for the init (runtime-spec: "not applicable to the container's init process").
 */
export function emitResetAffinity(w: PlanWriter, p: SpecProcess): void {
  // Checked all the same, as runc does when it converts the config.
  if (p.execCPUAffinity?.initial) cpuMask(p.execCPUAffinity.initial, "process.execCPUAffinity.initial");
  if (p.execCPUAffinity?.final) cpuMask(p.execCPUAffinity.final, "process.execCPUAffinity.final");
  w.op(Op.CpuAffinity, "reset the CPU affinity").bytes(new Uint8Array(CPUS_MAX / 8).fill(0xff));
}

/** execCPUAffinity.initial (exec): the affinity before the runtime moves the process into the cgroup. */
export function emitInitialAffinity(w: PlanWriter, p: SpecProcess): void {
  const initial = p.execCPUAffinity?.initial;
  if (initial) w.op(Op.CpuAffinity, `set the initial CPU affinity ${initial}`).bytes(cpuMask(initial, "process.execCPUAffinity.initial"));
}

/** execCPUAffinity.final (exec): the process's affinity once it is in the container's cgroup. */
export function emitFinalAffinity(w: PlanWriter, p: SpecProcess): void {
  const final = p.execCPUAffinity?.final;
  if (final) w.op(Op.CpuAffinity, `set the CPU affinity ${final}`).bytes(cpuMask(final, "process.execCPUAffinity.final"));
}

// Relative to procfs: the init opens them beneath its own procfs instance, never the container's /proc.
const APPARMOR_EXEC = ["thread-self/attr/apparmor/exec", "thread-self/attr/exec"];
const SELINUX_EXEC = ["thread-self/attr/exec"];

/**
 * AppArmor and SELinux labels for the exec, as runc: the AppArmor profile is written whether or
 * not AppArmor is enabled (a host without it fails the write, and create with it), while an
 * SELinux label on a host without SELinux is refused up front.
 */
export function emitLsmLabels(w: PlanWriter, p: SpecProcess, selinuxEnabled: () => boolean): void {
  if (p.selinuxLabel && !selinuxEnabled()) {
    throw new CompileError("process.selinuxLabel: set, but SELinux is disabled or not supported on this host");
  }
  if (p.apparmorProfile) w.op(Op.ExecAttr, `apply AppArmor profile ${p.apparmorProfile}`).strs(APPARMOR_EXEC).str(`exec ${p.apparmorProfile}`);
  if (p.selinuxLabel) w.op(Op.ExecAttr, `set SELinux label ${p.selinuxLabel}`).strs(SELINUX_EXEC).str(p.selinuxLabel);
}
