// config.json `process` (+ linux.personality) -> the ops that shape the container process.
import { CompileError } from "./mounts.ts";
import { CAPABILITIES, IOPRIO_CLASSES, PERSONALITY_DOMAINS, RLIMITS, SCHED_FLAGS, SCHED_POLICIES } from "./linux.ts";
import type { SpecLinux, SpecProcess } from "./spec.ts";
import { Op, type PlanWriter } from "./wire.ts";

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
    if (resource === undefined) throw new CompileError(`process.rlimits[${i}].type: unknown rlimit ${JSON.stringify(r.type)}`);
    w.op(Op.Rlimit, `set ${r.type}`).u32(resource).u64(r.soft).u64(r.hard);
  });
}

export function emitScheduling(w: PlanWriter, p: SpecProcess, linux: SpecLinux | undefined): void {
  if (p.oomScoreAdj !== undefined) w.op(Op.OomScoreAdj, "write /proc/self/oom_score_adj").i32(Number(p.oomScoreAdj));
  const s = p.scheduler;
  if (s) {
    const policy = SCHED_POLICIES[s.policy];
    if (policy === undefined) throw new CompileError(`process.scheduler.policy: unknown policy ${JSON.stringify(s.policy)}`);
    let flags = 0;
    for (const f of s.flags ?? []) {
      const bit = SCHED_FLAGS[f];
      if (bit === undefined) throw new CompileError(`process.scheduler.flags: unknown flag ${JSON.stringify(f)}`);
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
    if (cls === undefined) throw new CompileError(`process.ioPriority.class: unknown class ${JSON.stringify(io.class)}`);
    w.op(Op.IoPriority, `set I/O priority ${io.class}`).u32(cls).u32(Number(io.priority ?? 0));
  }
  const persona = linux?.personality;
  if (persona) {
    const domain = PERSONALITY_DOMAINS[persona.domain];
    if (domain === undefined) throw new CompileError(`linux.personality.domain: unknown domain ${JSON.stringify(persona.domain)}`);
    w.op(Op.Personality, `set personality ${persona.domain}`).u32(domain);
  }
}

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
