// Device access rules: linux.resources.devices plus runc's always-allowed defaults, reduced to
// one default verdict and exceptions with the opposite verdict (the form the v1 devices
// controller keeps, and the form the v2 eBPF program checks). The reduction follows the v1
// kernel's semantics for applying rules in order, so both versions enforce the same thing.
import { CgroupError, FIELD, type DeviceRule, type Int } from "./types.ts";
import { quote } from "../base/quote.ts";

export interface Exception {
  type: "c" | "b";
  /** -1: any */
  major: number;
  minor: number;
  /** subset of "rwm", in that order */
  access: string;
}

export interface DeviceSet {
  defaultAllow: boolean;
  exceptions: Exception[];
}

/**
 * runc appends these to every container's rules (mknod of anything, the standard character
 * devices, ptys and /dev/net/tun); engines and users rely on them.
 */
const ALWAYS_ALLOWED: readonly DeviceRule[] = [
  { allow: true, type: "c", major: -1, minor: -1, access: "m" },
  { allow: true, type: "b", major: -1, minor: -1, access: "m" },
  { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 8, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 7, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 0, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 9, access: "rwm" },
  { allow: true, type: "c", major: 136, minor: -1, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 2, access: "rwm" },
  { allow: true, type: "c", major: 10, minor: 200, access: "rwm" },
];

const ACCESS_ORDER = "rwm";

function normAccess(access: string | undefined, field: string): string {
  const a = access ?? "rwm";
  for (const ch of a) if (!ACCESS_ORDER.includes(ch)) throw new CgroupError(`${field}.access`, `unknown access ${quote(ch)} (expected letters of "rwm")`);
  return [...ACCESS_ORDER].filter((c) => a.includes(c)).join("");
}

function normNumber(v: Int | undefined, field: string): number {
  if (v === undefined || v === null) return -1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < -1 || n > 0xffffffff) throw new CgroupError(field, `invalid device number ${String(v)}`);
  return n;
}

/** Applies `rules` in order on a deny-all start (what runc's target state is) and reduces them. */
export function reduceRules(rules: readonly DeviceRule[], field = `${FIELD}.devices`): DeviceSet {
  const set: DeviceSet = { defaultAllow: false, exceptions: [] };
  rules.forEach((r, i) => applyRule(set, r, `${field}[${i}]`));
  return set;
}

function applyRule(set: DeviceSet, r: DeviceRule, field: string): void {
  const type = r.type ?? "a";
  if (type !== "a" && type !== "c" && type !== "b") throw new CgroupError(`${field}.type`, `invalid device type ${quote(type)} (expected "a", "c" or "b")`);
  const access = normAccess(r.access, field);
  if (type === "a") {
    // The kernel treats "a" as everything, whatever the numbers: a new default, no exceptions.
    set.defaultAllow = Boolean(r.allow);
    set.exceptions = [];
    return;
  }
  const major = normNumber(r.major, `${field}.major`);
  const minor = normNumber(r.minor, `${field}.minor`);
  if (access === "") return;
  const same = set.exceptions.find((e) => e.type === type && e.major === major && e.minor === minor);
  if (Boolean(r.allow) === set.defaultAllow) {
    // Same verdict as the default: take these access bits out of a matching exception.
    if (!same) return;
    same.access = [...same.access].filter((c) => !access.includes(c)).join("");
    if (same.access === "") set.exceptions.splice(set.exceptions.indexOf(same), 1);
    return;
  }
  if (same) same.access = [...ACCESS_ORDER].filter((c) => same.access.includes(c) || access.includes(c)).join("");
  else set.exceptions.push({ type, major, minor, access });
}

/** The container's rules: the spec's, then runc's defaults. */
export function containerDevices(rules: readonly DeviceRule[] | undefined): DeviceSet {
  return reduceRules([...(rules ?? []), ...ALWAYS_ALLOWED]);
}

/** "c 1:3 rwm" as devices.allow/devices.deny take it. */
export function v1String(e: Exception): string {
  const n = (x: number) => (x < 0 ? "*" : String(x));
  return `${e.type} ${n(e.major)}:${n(e.minor)} ${e.access}`;
}

const BPF_TYPE = { b: 1, c: 2 } as const;
const BPF_ACCESS: Record<string, number> = { m: 1, r: 2, w: 4 };

/** The 12-byte records zig/cgroups/devices.zig reads. */
export function bpfRules(set: DeviceSet): Uint8Array {
  const out = new Uint8Array(set.exceptions.length * 12);
  const v = new DataView(out.buffer);
  set.exceptions.forEach((e, i) => {
    const o = i * 12;
    v.setUint8(o, BPF_TYPE[e.type]);
    v.setUint8(o + 1, [...e.access].reduce((a, c) => a | BPF_ACCESS[c]!, 0));
    v.setUint8(o + 2, (e.major >= 0 ? 1 : 0) | (e.minor >= 0 ? 2 : 0));
    v.setUint32(o + 4, Math.max(e.major, 0), true);
    v.setUint32(o + 8, Math.max(e.minor, 0), true);
  });
  return out;
}
