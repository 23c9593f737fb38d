// What a profile means for one syscall name, read straight from the JSON (the tests' oracle):
// rules whose action is the default are dropped, an unconditional rule wins, otherwise the first
// rule whose conditions all hold, otherwise the default. Mirrors the documented semantics, not
// the compiler's code.
import { errno, RET } from "./bpf.ts";

type Obj = Record<string, unknown>;
const ACTION: Record<string, number> = {
  SCMP_ACT_ALLOW: RET.ALLOW, SCMP_ACT_LOG: RET.LOG, SCMP_ACT_KILL: RET.KILL_THREAD, SCMP_ACT_KILL_THREAD: RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: RET.KILL_PROCESS, SCMP_ACT_TRAP: RET.TRAP, SCMP_ACT_NOTIFY: RET.USER_NOTIF,
};

export function retFor(action: string, errnoRet: unknown): number {
  if (action === "SCMP_ACT_ERRNO") return errno(Number(errnoRet ?? 1));
  if (action === "SCMP_ACT_TRACE") return (RET.TRACE | Number(errnoRet ?? 1)) >>> 0;
  return ACTION[action]!;
}

/** What the kernel-side comparison means, on the width the ABI compares. */
export function holds(op: string, arg: bigint, value: bigint, two: bigint, width: 32 | 64): boolean {
  const m = width === 32 ? 0xffff_ffffn : (1n << 64n) - 1n;
  const [a, v, t] = [arg & m, value & m, two & m];
  switch (op) {
    case "SCMP_CMP_EQ": return a === v;
    case "SCMP_CMP_NE": return a !== v;
    case "SCMP_CMP_LT": return a < v;
    case "SCMP_CMP_LE": return a <= v;
    case "SCMP_CMP_GT": return a > v;
    case "SCMP_CMP_GE": return a >= v;
    case "SCMP_CMP_MASKED_EQ": return (a & v) === (t & v);
  }
  throw new Error(`op ${op}`);
}

/** Whether a profile's arg condition `c` holds for `args`. */
function argHolds(c: Obj, args: bigint[], width: 32 | 64): boolean {
  return holds(c.op as string, args[Number(c.index)] ?? 0n, BigInt(c.value as number), BigInt((c.valueTwo as number | undefined) ?? 0), width);
}

export function expectedRet(profile: Obj, name: string, args: bigint[] = [], width: 32 | 64 = 64): number {
  const def = retFor(profile.defaultAction as string, profile.defaultErrnoRet);
  const rules = (profile.syscalls as Obj[]).filter((s) => (s.names as string[]).includes(name)).filter((s) => retFor(s.action as string, s.errnoRet) !== def);
  const unconditional = rules.find((s) => !(s.args as Obj[] | undefined)?.length);
  if (unconditional) return retFor(unconditional.action as string, unconditional.errnoRet);
  for (const s of rules) if ((s.args as Obj[]).every((c) => argHolds(c, args, width))) return retFor(s.action as string, s.errnoRet);
  return def;
}
