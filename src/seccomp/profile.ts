// linux.seccomp (runtime-spec config-linux.md "Seccomp") -> a checked, flattened profile the
// encoder can write for the Zig compiler. Every refusal is one line naming the JSON path.
//
// Where the spec is silent, runc's behaviour is the reference (libcontainer/specconv and
// libcontainer/seccomp): an absent defaultAction with no syscalls means "no seccomp"; ERRNO and
// TRACE default to EPERM; SCMP_ACT_KILL is KILL_THREAD; a rule whose conditions name one
// argument twice becomes one rule per condition (OR), as runc splits it; NOTIFY may not be the
// default action nor apply to the calls that hand the listener over (runc: write).
import { quote } from "../base/quote.ts";

export const RET = {
  KILL_PROCESS: 0x8000_0000,
  KILL_THREAD: 0x0000_0000,
  TRAP: 0x0003_0000,
  ERRNO: 0x0005_0000,
  USER_NOTIF: 0x7fc0_0000,
  TRACE: 0x7ff0_0000,
  LOG: 0x7ffc_0000,
  ALLOW: 0x7fff_0000,
} as const;

export const FILTER_FLAG = { TSYNC: 1, LOG: 2, SPEC_ALLOW: 4, NEW_LISTENER: 8, WAIT_KILLABLE_RECV: 32 } as const;

const EPERM = 1;
export const ENOSYS = 38;

const ACTIONS: Record<string, number> = {
  SCMP_ACT_KILL: RET.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: RET.KILL_PROCESS,
  SCMP_ACT_TRAP: RET.TRAP,
  SCMP_ACT_ERRNO: RET.ERRNO,
  SCMP_ACT_TRACE: RET.TRACE,
  SCMP_ACT_ALLOW: RET.ALLOW,
  SCMP_ACT_LOG: RET.LOG,
  SCMP_ACT_NOTIFY: RET.USER_NOTIF,
};

/** libseccomp's enum scmp_compare values, which the wire format uses too. */
export const OPS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** Architectures with syscall tables (zig/seccomp/tables.zig `Arch`; the value is the wire id). */
export const ARCHS = { SCMP_ARCH_X86_64: 0, SCMP_ARCH_X86: 1, SCMP_ARCH_X32: 2, SCMP_ARCH_AARCH64: 3, SCMP_ARCH_ARM: 4 } as const;
export type ArchName = keyof typeof ARCHS;

/**
 * Architectures runc accepts that no x86_64 or aarch64 kernel can ever report in
 * seccomp_data.arch: leaving them out of the filter changes nothing, so they are skipped.
 */
const FOREIGN_ARCHS = new Set([
  "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
]);

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: FILTER_FLAG.WAIT_KILLABLE_RECV,
};

export const MAX_NAME_LEN = 64;
/** Calls the init makes between loading a NOTIFY filter and the agent holding its fd (runc: write). */
const HANDOVER_SYSCALLS = new Set(["write", "sendto", "sendmsg"]);
const U64_MAX = (1n << 64n) - 1n;

export interface FlatArg {
  index: number;
  op: number;
  value: bigint;
  valueTwo: bigint;
}

export interface FlatRule {
  name: string;
  action: number;
  args: FlatArg[];
  /** Where it came from: linux.seccomp.syscalls[syscall].names[nameIndex] (see rulePath). */
  syscall: number;
  nameIndex: number;
}

/** The JSON path of a rule's name, built only when a message needs it. */
export const rulePath = (path: string, r: FlatRule) => `${path}.syscalls[${r.syscall}].names[${r.nameIndex}]`;

export interface Profile {
  defaultAction: number;
  archs: ArchName[];
  /** Flags the profile asks for (SECCOMP_FILTER_FLAG_*); undefined when `flags` is absent. */
  flags?: { flag: number; path: string; name: string }[];
  rules: FlatRule[];
  /** Some rule uses SCMP_ACT_NOTIFY. */
  notify: boolean;
  listenerPath?: string;
  /** runc's -ENOSYS stub applies (a restrictive default that is not already ENOSYS). */
  enosysStub: boolean;
  /** Every action used, with the path that uses it first (for the kernel-support check). */
  actionsUsed: Map<number, string>;
  skippedArchs: string[];
}

export class ProfileError extends Error {}

const fail = (path: string, why: string): never => {
  throw new ProfileError(`${path}: ${why}`);
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, "must be an array");
  return v as unknown[];
}

function u64(v: unknown, path: string): bigint {
  const ok = (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint";
  const n = ok ? BigInt(v as number | bigint) : -1n;
  if (n < 0n || n > U64_MAX) fail(path, `must be an integer from 0 to ${U64_MAX}`);
  return n;
}

function errnoData(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = u64(v, path);
  if (n > 0xffffn) fail(path, `must be at most 65535 (seccomp returns a 16-bit errno), got ${n}`);
  return Number(n);
}

function action(name: unknown, errnoRet: number | undefined, path: string): number {
  if (typeof name !== "string") return fail(path, "must be a string");
  const base = ACTIONS[name];
  if (base === undefined) return fail(path, `unknown action ${quote(name)}`);
  if (base === RET.ERRNO || base === RET.TRACE) return base | (errnoRet ?? EPERM);
  return base;
}

function archs(v: unknown, path: string, native: ArchName, skipped: string[]): ArchName[] {
  const out = new Set<ArchName>([native]);
  list(v, path).forEach((a, i) => {
    if (typeof a === "string" && a in ARCHS) out.add(a as ArchName);
    else if (typeof a === "string" && FOREIGN_ARCHS.has(a)) skipped.push(a);
    else fail(`${path}[${i}]`, `unknown architecture ${quote(a)}`);
  });
  return [...out];
}

function flags(v: unknown, path: string): Profile["flags"] {
  if (v === undefined || v === null) return undefined;
  return list(v, path).map((f, i) => {
    const flag = typeof f === "string" ? FLAGS[f] : undefined;
    if (flag === undefined) fail(`${path}[${i}]`, `unknown flag ${quote(f)}`);
    return { flag: flag!, path: `${path}[${i}]`, name: f as string };
  });
}

function arg(a: unknown, path: string): FlatArg {
  if (!isObj(a)) return fail(path, "must be an object");
  const index = u64(a.index, `${path}.index`);
  if (index > 5n) fail(`${path}.index`, `must be 0 to 5 (a syscall has six arguments), got ${index}`);
  const op = typeof a.op === "string" ? OPS[a.op] : undefined;
  if (op === undefined) fail(`${path}.op`, `unknown operator ${quote(a.op)}`);
  const valueTwo = a.valueTwo === undefined || a.valueTwo === null ? 0n : u64(a.valueTwo, `${path}.valueTwo`);
  return { index: Number(index), op: op!, value: u64(a.value, `${path}.value`), valueTwo };
}

/** runc: conditions on distinct arguments AND together; a repeated argument splits the rule. */
function conditionSets(args: FlatArg[]): FlatArg[][] {
  const indexes = new Set(args.map((a) => a.index));
  return indexes.size < args.length ? args.map((a) => [a]) : [args];
}

function syscalls(v: unknown, path: string, p: Profile): void {
  list(v, path).forEach((s, i) => {
    const at = `${path}[${i}]`;
    if (!isObj(s)) return fail(at, "must be an object");
    const act = action(s.action, errnoData(s.errnoRet, `${at}.errnoRet`), `${at}.action`);
    if (!p.actionsUsed.has(act)) p.actionsUsed.set(act, `${at}.action`);
    const args = list(s.args, `${at}.args`).map((a, j) => arg(a, `${at}.args[${j}]`));
    const sets = conditionSets(args);
    const names = list(s.names, `${at}.names`);
    for (let j = 0; j < names.length; j++) {
      const name = names[j];
      if (typeof name !== "string" || name === "") return fail(`${at}.names[${j}]`, "must be a non-empty syscall name");
      if (act === RET.USER_NOTIF && HANDOVER_SYSCALLS.has(name)) fail(`${at}.action`, `SCMP_ACT_NOTIFY cannot apply to ${name} (the init needs it to hand the listener over)`);
      for (const set of sets) p.rules.push({ name: name as string, action: act, args: set, syscall: i, nameIndex: j });
    }
    if (act === RET.USER_NOTIF && names.length > 0) p.notify = true;
  });
}

export function nativeArch(): ArchName {
  if (process.arch === "x64") return "SCMP_ARCH_X86_64";
  if (process.arch === "arm64") return "SCMP_ARCH_AARCH64";
  throw new ProfileError(`seccomp: no syscall tables for this machine (${process.arch})`);
}

/** Checks and flattens linux.seccomp; undefined when it asks for nothing (runc: seccomp off). */
export function readProfile(v: unknown, path: string, native: ArchName = nativeArch()): Profile | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) return fail(path, "must be an object");
  const noRules = v.syscalls === undefined || v.syscalls === null || (Array.isArray(v.syscalls) && v.syscalls.length === 0);
  if ((v.defaultAction === undefined || v.defaultAction === "") && noRules) return undefined;
  const defaultErrno = errnoData(v.defaultErrnoRet, `${path}.defaultErrnoRet`);
  const defaultAction = action(v.defaultAction, defaultErrno, `${path}.defaultAction`);
  if (defaultAction === RET.USER_NOTIF) fail(`${path}.defaultAction`, "SCMP_ACT_NOTIFY cannot be the default action");
  if (v.listenerPath !== undefined && typeof v.listenerPath !== "string") fail(`${path}.listenerPath`, "must be a string");
  const skippedArchs: string[] = [];
  const p: Profile = {
    defaultAction,
    archs: archs(v.architectures, `${path}.architectures`, native, skippedArchs),
    flags: flags(v.flags, `${path}.flags`),
    rules: [],
    notify: false,
    listenerPath: (v.listenerPath as string | undefined) || undefined,
    enosysStub: ![RET.ALLOW, RET.LOG].includes(defaultAction as never) && (defaultAction & 0xffff_0000) !== RET.TRACE && defaultErrno !== ENOSYS,
    actionsUsed: new Map([[defaultAction, `${path}.defaultAction`]]),
    skippedArchs,
  };
  syscalls(v.syscalls, `${path}.syscalls`, p);
  if (p.notify && !p.listenerPath) fail(`${path}.listenerPath`, "required when a rule uses SCMP_ACT_NOTIFY");
  return p;
}
