// linux.seccomp -> { flags, program, listener } for the init's Seccomp op (src/plan/compile.ts).
// Checks the profile (src/seccomp/profile.ts), encodes it (encode.ts), compiles it in Zig
// (zig/seccomp/), and remembers the result by the profile's hash (cache.ts): runc-compatible
// invocations are one process per container, so the disk cache is what makes repeats cheap.
import { BunruncError } from "../base/errors.ts";
import { SeccompCompileError, seccompCompile } from "../ffi.ts";
import { encodeProfile } from "./encode.ts";
import { actionAvailable, flagSupported } from "./kernel.ts";
import { cacheKey, readCached, writeCached, type CachedFilter } from "./cache.ts";
import { FILTER_FLAG, nativeArch, ProfileError, readProfile, RET, rulePath, type ArchName, type Profile } from "./profile.ts";

export interface CompiledSeccomp extends CachedFilter {
  /** Syscall names no architecture of the filter knows: skipped, as runc does (empty on a cache hit). */
  unknownSyscalls: string[];
}

export interface CompileSeccompOptions {
  /** Directory for the on-disk cache (`<root>/@seccomp-cache`); none: memory only. */
  cacheDir?: string;
  /** The machine's architecture (tests compile for the other one). */
  native?: ArchName;
  /** Debug lines: skipped syscall names and architectures, cache misses. */
  debug?: (message: string) => void;
}

const ACTION_NAMES = new Map<number, string>([
  [RET.KILL_PROCESS, "SCMP_ACT_KILL_PROCESS"], [RET.KILL_THREAD, "SCMP_ACT_KILL_THREAD"], [RET.TRAP, "SCMP_ACT_TRAP"],
  [RET.ERRNO, "SCMP_ACT_ERRNO"], [RET.USER_NOTIF, "SCMP_ACT_NOTIFY"], [RET.TRACE, "SCMP_ACT_TRACE"], [RET.LOG, "SCMP_ACT_LOG"], [RET.ALLOW, "SCMP_ACT_ALLOW"],
]);

const MEMORY_CACHE_MAX = 32;
const memory = new Map<string, CachedFilter>();

/** undefined when the config asks for no filter. Throws BunruncError("invalid-config") naming the JSON path. */
export function compileSeccomp(profile: unknown, path = "linux.seccomp", opts: CompileSeccompOptions = {}): CompiledSeccomp | undefined {
  if (profile === undefined || profile === null) return undefined;
  const native = opts.native ?? nativeArch();
  const key = cacheKey(profile, native);
  const hit = memory.get(key) ?? (opts.cacheDir ? readCached(opts.cacheDir, key) : undefined);
  if (hit) {
    remember(key, hit);
    return { ...hit, unknownSyscalls: [] };
  }
  const fresh = compileFresh(profile, path, native, opts.debug);
  if (!fresh) return undefined;
  const { unknownSyscalls, ...filter } = fresh;
  remember(key, filter);
  if (opts.cacheDir) writeCached(opts.cacheDir, key, filter, opts.debug);
  return fresh;
}

function remember(key: string, f: CachedFilter): void {
  memory.delete(key);
  memory.set(key, f);
  if (memory.size > MEMORY_CACHE_MAX) memory.delete(memory.keys().next().value!);
}

function compileFresh(profile: unknown, path: string, native: ArchName, debug?: (m: string) => void): CompiledSeccomp | undefined {
  let p: Profile | undefined;
  let flags: number;
  try {
    p = readProfile(profile, path, native);
    if (!p) return undefined;
    checkActions(p);
    flags = filterFlags(p);
  } catch (e) {
    if (e instanceof ProfileError) throw new BunruncError("invalid-config", e.message);
    throw e;
  }
  if (p.skippedArchs.length) debug?.(`${path}.architectures: ${p.skippedArchs.join(", ")} cannot occur on this kernel; left out of the filter`);
  const enc = encodeProfile(p, native);
  let out;
  try {
    out = seccompCompile(enc.bytes);
  } catch (e) {
    if (!(e instanceof SeccompCompileError)) throw e;
    if (e.errno === 7) throw new BunruncError("invalid-config", `${path}: the filter needs more than 4096 BPF instructions (the kernel's BPF_MAXINSNS)`);
    const rule = e.rule === undefined ? undefined : enc.rules[e.rule];
    const at = rule ? rulePath(path, rule) : path;
    throw new BunruncError("invalid-config", `${at}: the seccomp compiler refused it (${e.message})`);
  }
  const unknown = [...enc.unnamable, ...out.unknownRules.map((i) => enc.rules[i]!)].map((r) => r.name);
  const unknownSyscalls = [...new Set(unknown)];
  for (const name of unknownSyscalls) debug?.(`${path}: unknown syscall ${JSON.stringify(name)} ignored`);
  return {
    flags,
    program: out.program,
    listener: p.notify,
    instructions: out.program.length / 8,
    longestPath: out.longestPath,
    plainLongestPath: out.plainLongestPath,
    unknownSyscalls,
  };
}

function checkActions(p: Profile): void {
  for (const [action, at] of p.actionsUsed) {
    if (!actionAvailable(action)) throw new ProfileError(`${at}: ${ACTION_NAMES.get((action & 0xffff_0000) >>> 0)} is not supported by this kernel`);
  }
}

/**
 * SECCOMP_FILTER_FLAG_* for seccomp(2). No `flags` key: SPEC_ALLOW when the kernel has it (runc's
 * default). A listener adds NEW_LISTENER and drops TSYNC (the kernel refuses the pair; the init
 * is single-threaded anyway); WAIT_KILLABLE_RECV only means something with a listener (and the
 * kernel refuses it alone), so without one it is dropped.
 */
function filterFlags(p: Profile): number {
  let flags = 0;
  if (p.flags === undefined) {
    if (flagSupported(FILTER_FLAG.SPEC_ALLOW)) flags |= FILTER_FLAG.SPEC_ALLOW;
  } else {
    for (const f of p.flags) {
      if (!flagSupported(f.flag)) throw new ProfileError(`${f.path}: ${f.name} is not supported by this kernel`);
      flags |= f.flag;
    }
  }
  if (p.notify) flags = (flags | FILTER_FLAG.NEW_LISTENER) & ~FILTER_FLAG.TSYNC;
  else flags &= ~FILTER_FLAG.WAIT_KILLABLE_RECV;
  return flags;
}
