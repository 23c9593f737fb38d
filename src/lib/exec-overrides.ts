// The process `exec` runs: process.json as given (--process), or the container's own process
// from config.json with the command line's args and overrides (--cwd, --env, --tty, --user,
// --additional-gids, --cap, --no-new-privs, --apparmor, --process-label). What the process does
// not say it inherits from the container's: capabilities, rlimits, no_new_privs, oom_score_adj.
import { readDocument } from "../config/limits.ts";
import { parseProcessJson } from "../config/load.ts";
import type { SpecProcess } from "../config/types.ts";
import { BunruncError } from "../base/errors.ts";
import { clip, quote } from "../base/quote.ts";

export interface ProcessOverrides {
  /** Path of a process.json (--process): the whole process; the overrides below are ignored. */
  processFile?: string;
  /** An already parsed process (library callers); like processFile. */
  process?: SpecProcess;
  /** The command and its arguments (inline form). */
  args?: string[];
  tty?: boolean;
  cwd?: string;
  /** KEY=VALUE entries added to (or replacing in) the container's env. */
  env?: string[];
  /** "uid[:gid]", numeric. */
  user?: string;
  additionalGids?: number[];
  /** Capabilities added to the bounding, effective and permitted sets. */
  caps?: string[];
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
}

const UINT32_MAX = 0xffffffff;

export function execProcess(container: SpecProcess | undefined, o: ProcessOverrides): SpecProcess {
  const p = o.process ? structuredClone(o.process) : o.processFile ? readProcessFile(o.processFile) : inline(container, o);
  if (!p.args?.length) throw fail("process.args: must contain at least one entry");
  // What the process does not set comes from the container's process (runc's exec does the same).
  if (!p.capabilities && container?.capabilities) p.capabilities = structuredClone(container.capabilities);
  if (!p.rlimits?.length && container?.rlimits?.length) p.rlimits = structuredClone(container.rlimits);
  if (p.noNewPrivileges === undefined && container?.noNewPrivileges !== undefined) p.noNewPrivileges = container.noNewPrivileges;
  if (p.oomScoreAdj === undefined && container?.oomScoreAdj !== undefined) p.oomScoreAdj = container.oomScoreAdj;
  p.env = dedupeEnv(p.env ?? []);
  return p;
}

function readProcessFile(path: string): SpecProcess {
  let text: string;
  try {
    text = readDocument(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(`--process ${clip(path)}: ${code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
  }
  try {
    return parseProcessJson(text, clip(path)) as SpecProcess;
  } catch (e) {
    throw fail((e as Error).message);
  }
}

function inline(container: SpecProcess | undefined, o: ProcessOverrides): SpecProcess {
  if (!container) throw fail("config.json: process: required to exec without --process");
  if (!o.args?.length) throw fail("no command given: exec <container-id> <command> [args...], or --process FILE");
  const p: SpecProcess = structuredClone(container);
  p.args = [...o.args];
  p.terminal = Boolean(o.tty);
  // The container's consoleSize is for its own terminal, not this one.
  delete p.consoleSize;
  if (o.cwd) p.cwd = o.cwd;
  if (o.env?.length) {
    o.env.forEach((e, i) => {
      if (!e.includes("=")) throw fail(`--env ${quote(e)} (#${i + 1}): expected KEY=VALUE`);
    });
    p.env = [...(p.env ?? []), ...o.env];
  }
  if (o.user) applyUser(p, o.user);
  if (o.additionalGids?.length) {
    const gids = o.additionalGids.map((g) => {
      if (!Number.isInteger(g) || g < 0 || g > UINT32_MAX) throw fail(`--additional-gids ${g}: expected a gid from 0 to ${UINT32_MAX}`);
      return g;
    });
    p.user = { ...p.user, additionalGids: [...(p.user.additionalGids ?? []), ...gids] };
  }
  if (o.caps?.length) addCaps(p, o.caps);
  if (o.noNewPrivs) p.noNewPrivileges = true;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  return p;
}

function applyUser(p: SpecProcess, spec: string): void {
  const [uidText, gidText, ...rest] = spec.split(":");
  const parse = (text: string | undefined, what: string) => {
    if (text === undefined || !/^\d+$/.test(text) || Number(text) > UINT32_MAX) {
      throw fail(`--user ${quote(spec)}: ${what} must be a number from 0 to ${UINT32_MAX} (names are not looked up)`);
    }
    return Number(text);
  };
  if (rest.length) throw fail(`--user ${quote(spec)}: expected uid[:gid]`);
  const user = { ...p.user, uid: parse(uidText, "uid") };
  if (gidText !== undefined) user.gid = parse(gidText, "gid");
  p.user = user;
}

/**
 * --cap adds to the bounding, effective and permitted sets. Not to inheritable and ambient:
 * that let exec'd programs keep capabilities across execve of unprivileged binaries
 * (CVE-2022-29162), which runc stopped doing too.
 */
function addCaps(p: SpecProcess, caps: readonly string[]): void {
  const names = caps.map((c) => {
    const upper = c.toUpperCase();
    return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  });
  const add = (set: string[] | undefined) => [...new Set([...(set ?? []), ...names])];
  const c = p.capabilities ?? {};
  p.capabilities = { ...c, bounding: add(c.bounding), effective: add(c.effective), permitted: add(c.permitted) };
}

/** KEY=VALUE list with later entries replacing earlier ones in place (execve's getenv takes the first). */
export function dedupeEnv(env: readonly string[]): string[] {
  const at = new Map<string, number>();
  const out: string[] = [];
  for (const e of env) {
    const eq = e.indexOf("=");
    const key = eq < 0 ? e : e.slice(0, eq);
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push(e);
    } else {
      out[i] = e;
    }
  }
  return out;
}

export function fail(message: string): BunruncError {
  return new BunruncError("invalid-config", `exec failed: ${message}`);
}
