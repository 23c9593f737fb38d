// Signal names and numbers (x86_64/arm64 numbering), for kill and for run's forwarding.
import { BunruncError } from "../base/errors.ts";
import { clip } from "../base/quote.ts";

export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27,
  WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** "9", "KILL", "SIGKILL", "sigkill", "RTMIN+3" -> number; runc's wording on failure. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= SIGRTMAX) return n;
    throw new BunruncError("usage", `unknown signal "${clip(text)}"`);
  }
  const name = text.toUpperCase().replace(/^SIG/, "");
  const known = SIGNALS[name];
  if (known !== undefined) return known;
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const n = name.startsWith("RTMIN") ? SIGRTMIN + Number(rt[1] ?? 0) : SIGRTMAX - Number(rt[1] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new BunruncError("usage", `unknown signal "${clip(text)}"`);
}
