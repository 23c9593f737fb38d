// linux.namespaces -> clone3 flags and the init's namespace ops. Most new namespaces come from
// clone3 itself; two cannot: a cgroup namespace must be made after the runtime moved the init
// into the container's cgroup (or its root would be the runtime's cgroup), and a time
// namespace takes its offsets only before any process is in it.
import { CLONE, NAMESPACE_FLAGS } from "./linux.ts";
import { CompileError } from "./mounts.ts";
import type { Spec } from "../config/types.ts";
import { Op, type PlanWriter } from "./wire.ts";
import { clip, quote } from "../base/quote.ts";

export interface Namespaces {
  /** CLONE_NEW* bits for clone3. */
  cloneFlags: number;
  /** CLONE_NEW* bits of every namespace the container gets new (clone3 or later unshare). */
  created: number;
  /** CLONE_NEW* bits of every namespace listed, new or joined by path. */
  listed: number;
  /** The init forks after joining a pid namespace by path. */
  forks: boolean;
}

/** Namespaces made by an op after the Setup stop instead of by clone3. */
const LATE = CLONE.NEWCGROUP | CLONE.NEWTIME;

/** Emits the joins (user first, as runc), the fork into a joined pid ns, then the late unshares. */
export function emitNamespaces(w: PlanWriter, spec: Spec): Namespaces {
  let created = 0;
  let listed = 0;
  let forks = false;
  const namespaces = spec.linux?.namespaces ?? [];
  namespaces.forEach((n, i) => {
    const flag = NAMESPACE_FLAGS[n.type];
    if (flag === undefined) throw new CompileError(`linux.namespaces[${i}].type: unknown namespace ${quote(n.type)}`);
    listed |= flag;
    if (!n.path) created |= flag;
  });
  const joined = namespaces.filter((n) => n.path).sort((a, b) => Number(b.type === "user") - Number(a.type === "user"));
  for (const n of joined) {
    w.op(Op.SetnsPath, `join ${n.type} namespace ${n.path}`).u32(NAMESPACE_FLAGS[n.type]!).str(n.path!);
    if (n.type === "pid") forks = true;
  }
  // setns(CLONE_NEWPID) only moves future children: fork so the container process is inside.
  if (forks) w.op(Op.Fork, "fork into the joined pid namespace");
  if (created & CLONE.NEWCGROUP) w.op(Op.Unshare, "unshare the cgroup namespace").u32(CLONE.NEWCGROUP);
  if (created & CLONE.NEWTIME) w.op(Op.TimeNs, "set up the time namespace").str(timeOffsets(spec));
  return { cloneFlags: created & ~LATE, created, listed, forks };
}

const CLOCKS = ["monotonic", "boottime"] as const;
const NANOS_MAX = 999_999_999n;

/** linux.timeOffsets -> the lines /proc/PID/timens_offsets takes. */
export function timeOffsets(spec: Spec): string {
  const offsets = spec.linux?.timeOffsets ?? {};
  let text = "";
  for (const [clock, o] of Object.entries(offsets)) {
    if (!(CLOCKS as readonly string[]).includes(clock)) throw new CompileError(`linux.timeOffsets.${clip(clock)}: unknown clock (monotonic or boottime)`);
    const nanos = BigInt(o.nanosecs ?? 0);
    if (nanos < 0n || nanos > NANOS_MAX) throw new CompileError(`linux.timeOffsets.${clock}.nanosecs: must be 0..${NANOS_MAX}`);
    text += `${clock} ${BigInt(o.secs ?? 0)} ${nanos}\n`;
  }
  return text;
}
