// What the running kernel's seccomp accepts (zig/seccomp/probe.zig asks it without installing
// anything). Probed once per process.
import { seccompProbe } from "../ffi.ts";

/** probe.zig `actions` order; the probe's bit 16 + i says action i is available. */
const PROBED_ACTIONS = [0x8000_0000, 0x0000_0000, 0x0003_0000, 0x0005_0000, 0x7fc0_0000, 0x7ff0_0000, 0x7ffc_0000, 0x7fff_0000];

let mask: number | undefined;

/** The raw probe result; part of the filter cache key (a new kernel may accept more). */
export function probeMask(): number {
  mask ??= seccompProbe();
  return mask;
}

export function flagSupported(flag: number): boolean {
  return (probeMask() & flag) === flag;
}

/** `action` is a full SECCOMP_RET_* value; its data bits do not matter. */
export function actionAvailable(action: number): boolean {
  const i = PROBED_ACTIONS.indexOf((action & 0xffff_0000) >>> 0);
  return i >= 0 && (probeMask() & (1 << (16 + i))) !== 0;
}
