// A classic-BPF interpreter for seccomp programs, written from the kernel's description
// (Documentation/networking/filter.rst, include/uapi/linux/seccomp.h), independent of the
// compiler: it runs a program over one struct seccomp_data and says what the kernel would
// return, and how many instructions it took. Unknown opcodes, jumps out of the program and
// running off its end are errors, as the kernel's checker would make them.

export const AUDIT = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

export const X32_BIT = 0x4000_0000;

export const RET = {
  KILL_PROCESS: 0x8000_0000,
  KILL_THREAD: 0,
  TRAP: 0x0003_0000,
  ERRNO: 0x0005_0000,
  USER_NOTIF: 0x7fc0_0000,
  TRACE: 0x7ff0_0000,
  LOG: 0x7ffc_0000,
  ALLOW: 0x7fff_0000,
} as const;

export const errno = (e: number) => (RET.ERRNO | e) >>> 0;

export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  args?: (number | bigint)[];
}

export interface Outcome {
  /** The 32-bit value of the `ret` reached. */
  ret: number;
  /** Instructions executed, the `ret` included. */
  steps: number;
}

/** struct seccomp_data: nr u32, arch u32, instruction_pointer u64, args[6] u64 (host order: LE). */
function seccompData(d: SeccompData): DataView {
  const dv = new DataView(new ArrayBuffer(64));
  dv.setUint32(0, d.nr >>> 0, true);
  dv.setUint32(4, d.arch >>> 0, true);
  dv.setBigUint64(8, d.ip ?? 0n, true);
  (d.args ?? []).forEach((a, i) => dv.setBigUint64(16 + 8 * i, BigInt.asUintN(64, BigInt(a)), true));
  return dv;
}

export function runFilter(program: Uint8Array, d: SeccompData): Outcome {
  if (program.length === 0 || program.length % 8 !== 0) throw new Error(`program length ${program.length} is not a multiple of 8`);
  const n = program.length / 8;
  if (n > 4096) throw new Error(`${n} instructions exceed BPF_MAXINSNS`);
  const code = new DataView(program.buffer, program.byteOffset, program.length);
  const data = seccompData(d);
  let a = 0;
  let x = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    if (pc >= n) throw new Error(`ran off the end of the program (pc ${pc})`);
    steps++;
    const op = code.getUint16(pc * 8, true);
    const jt = code.getUint8(pc * 8 + 2);
    const jf = code.getUint8(pc * 8 + 3);
    const k = code.getUint32(pc * 8 + 4, true);
    pc++;
    switch (op) {
      case 0x20: // ld [k] (32-bit, absolute)
        if (k % 4 !== 0 || k + 4 > 64) throw new Error(`ld [${k}] outside seccomp_data`);
        a = data.getUint32(k, true);
        break;
      case 0x00: // ld #k
        a = k;
        break;
      case 0x01: // ldx #k
        x = k;
        break;
      case 0x54: // and #k
        a = (a & k) >>> 0;
        break;
      case 0x5c: // and x
        a = (a & x) >>> 0;
        break;
      case 0x05: // ja k
        pc += k;
        break;
      case 0x15: // jeq #k
        pc += a === k ? jt : jf;
        break;
      case 0x25: // jgt #k
        pc += a > k ? jt : jf;
        break;
      case 0x35: // jge #k
        pc += a >= k ? jt : jf;
        break;
      case 0x45: // jset #k
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06: // ret #k
        return { ret: k, steps };
      case 0x16: // ret a
        return { ret: a, steps };
      default:
        throw new Error(`opcode 0x${op.toString(16)} at ${pc - 1} is not one a seccomp filter may use here`);
    }
  }
}

/** The action the kernel takes for a return value (data bits masked off). */
export const actionOf = (ret: number) => (ret & 0xffff_0000) >>> 0;
