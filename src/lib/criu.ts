// CRIU as checkpoint and restore drive it: its command line (`criu dump|pre-dump|restore`),
// the container's mounts and namespaces described to it the way engines expect, and its failures
// turned into one line that quotes CRIU's own last error and names its log.
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Spec } from "../config/types.ts";
import { BunruncError } from "../base/errors.ts";
import { clip, quote } from "../base/quote.ts";

/** runc's names for the files beside the images: what stdio the init had, and the two logs. */
export const DESCRIPTORS_FILE = "descriptors.json";
/** bunrunc's: the CRIU key each of fds 0-2 is inherited back under ("" for none). */
export const STDIO_KEYS_FILE = "bunrunc-stdio.json";
export const DUMP_LOG = "dump.log";
export const RESTORE_LOG = "restore.log";
/** The key a joined (external) network namespace is dumped under and inherited back as. */
export const EXT_NETNS_KEY = "extRootNetNS";

const CGROUPS_MODES = new Set(["soft", "full", "strict", "ignore"]);
const EMPTY_NS = new Set(["network"]);
const CRIU_LOG_LEVEL = "-v4";
const ERROR_LINES_QUOTED = 1;

/** The flags both verbs share, as criu options. */
export interface CriuCommon {
  /** --criu: the binary (a name looked up on PATH, or a path). */
  criu: string;
  imagePath: string;
  workPath: string;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  /** --manage-cgroups-mode: soft (default), full, strict or ignore. */
  manageCgroupsMode?: string;
  /** --empty-ns: namespaces made but not restored ("network" is what criu knows). */
  emptyNs?: string[];
  autoDedup?: boolean;
  lazyPages?: boolean;
}

/** The image and work directories: --image-path (default ./checkpoint, as runc), --work-path (default the images). */
export function criuPaths(imagePath: string | undefined, workPath: string | undefined): { imagePath: string; workPath: string } {
  const images = resolve(imagePath || "checkpoint");
  return { imagePath: images, workPath: resolve(workPath || images) };
}

/** The options every criu action gets from the shared flags. */
export function commonArgs(verb: string, o: CriuCommon, log: string): string[] {
  const args = ["--images-dir", o.imagePath, "--work-dir", o.workPath, "--log-file", log, CRIU_LOG_LEVEL];
  if (o.tcpEstablished) args.push("--tcp-established");
  if (o.extUnixSk) args.push("--ext-unix-sk");
  if (o.shellJob) args.push("--shell-job");
  if (o.fileLocks) args.push("--file-locks");
  if (o.autoDedup) args.push("--auto-dedup");
  if (o.lazyPages) args.push("--lazy-pages");
  const mode = o.manageCgroupsMode || "soft";
  if (!CGROUPS_MODES.has(mode)) throw new BunruncError("usage", `${verb}: --manage-cgroups-mode: ${quote(mode)} is not soft, full, strict or ignore`);
  args.push(`--manage-cgroups=${mode}`);
  for (const ns of o.emptyNs ?? []) {
    if (!EMPTY_NS.has(ns)) throw new BunruncError("usage", `${verb}: --empty-ns: ${quote(ns)}: only network can be left empty`);
    args.push("--empty-ns", "net");
  }
  return args;
}

/** A bind mount in the config (type bind, or a bind/rbind option): CRIU cannot dump what it names on the host. */
function isBind(m: { type?: string; options?: string[] }): boolean {
  return m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");
}

/**
 * The mounts CRIU must treat as external: every bind mount (its destination is the key; dump maps
 * it to itself, restore to the host source), and every masked path that is a file (bunrunc binds
 * /dev/null over it). Masked directories are read-only tmpfs, which CRIU dumps itself.
 */
export function externalMounts(spec: Spec, bundle: string, rootfs: string, action: "dump" | "restore"): string[] {
  const args: string[] = [];
  for (const m of spec.mounts ?? []) {
    if (!isBind(m) || !m.source) continue;
    const source = isAbsolute(m.source) ? m.source : join(bundle, m.source);
    args.push("--external", `mnt[${m.destination}]:${action === "dump" ? m.destination : source}`);
  }
  for (const p of spec.linux?.maskedPaths ?? []) {
    let isFile = false;
    try {
      isFile = !statSync(join(rootfs, p)).isDirectory();
    } catch {
      continue; // not in the rootfs: the init masked nothing there
    }
    if (isFile) args.push("--external", `mnt[${p}]:${action === "dump" ? p : "/dev/null"}`);
  }
  return args;
}

/**
 * Restore binds each external mount onto its destination in the rootfs, which must be there: a
 * rootfs made afresh (podman's --import) lacks what the init made at create. Made here as an
 * empty directory or file, like the source; a path through a symbolic link (or anything but
 * directories) is left alone, so nothing is made outside the rootfs, and CRIU names what it lacks.
 */
export function makeMountpoints(spec: Spec, bundle: string, rootfs: string): void {
  for (const m of spec.mounts ?? []) {
    if (!isBind(m) || !m.source) continue;
    const source = isAbsolute(m.source) ? m.source : join(bundle, m.source);
    let isDir = true;
    try {
      isDir = statSync(source).isDirectory();
    } catch {}
    makeInside(rootfs, m.destination, isDir);
  }
}

function makeInside(rootfs: string, destination: string, isDir: boolean): void {
  const parts = destination.split("/").filter((p) => p && p !== "." && p !== "..");
  let at = rootfs;
  for (let i = 0; i < parts.length; i++) {
    const next = join(at, parts[i]!);
    const last = i === parts.length - 1;
    let st;
    try {
      st = lstatSync(next);
    } catch {
      try {
        if (last && !isDir) closeSync(openSync(next, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o644));
        else mkdirSync(next, 0o755);
      } catch {
        return;
      }
      at = next;
      continue;
    }
    if (!last && !st.isDirectory()) return; // a symlink or a file on the way: not ours to follow
    at = next;
  }
}

/** The config's network namespace when it joins an existing one (a path): CRIU leaves it outside. */
export function joinedNetns(spec: Spec): string | undefined {
  return spec.linux?.namespaces?.find((n) => n.type === "network" && n.path)?.path;
}

/** The inode that names a namespace file in CRIU's `net[INODE]` key. */
export function nsInode(path: string): number {
  return statSync(path).ino;
}

export interface CriuRun {
  code: number;
  stderr: string;
}

/**
 * Runs criu with `args`; extra fds (beyond 0-2, all /dev/null here but stderr, which is kept) are
 * passed as criu's 3, 4, ... in order. Throws the missing-binary line when it cannot start.
 */
export async function runCriu(verb: string, criu: string, args: string[], o: { extraFds?: number[]; prefix?: string[]; env?: Record<string, string>; started?: (exited: Promise<number>) => void } = {}): Promise<CriuRun> {
  const prefix = o.prefix ?? [];
  let proc;
  try {
    proc = Bun.spawn([...prefix, criu, ...args], { stdio: ["ignore", "ignore", "pipe", ...(o.extraFds ?? [])] as never, env: { ...process.env, ...o.env } });
  } catch (e) {
    throw missing(verb, criu, e);
  }
  o.started?.(proc.exited);
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr as unknown as ReadableStream).text()]);
  if (code === 127 && prefix.length && /not found|No such file/.test(stderr)) throw missing(verb, criu, new Error(stderr.trim()));
  return { code, stderr };
}

function missing(verb: string, criu: string, e: unknown): BunruncError {
  return new BunruncError("system", `${verb}: cannot run criu (${quote(criu)}): ${clip((e as Error).message)}; install criu or name it with --criu`);
}

/** Whether `criu` can be started at all (a name on PATH, or a path). */
export function criuFound(criu: string): boolean {
  if (criu.includes("/")) return existsSync(criu);
  return Bun.which(criu) !== null;
}

/**
 * The error of a criu log that says why: the last `Error` line that is neither the closing
 * "Dumping/Restoring FAILED." nor a helper's bare exit status (its reason is logged after it).
 */
export function lastError(log: string): string {
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    return "";
  }
  const errors = text.split("\n").filter((l) => /\bError\b/.test(l)).map((l) => l.replace(/^\(\s*\d+\.\d+\)\s*/, "").trim());
  const telling = errors.filter((l) => !/FAILED\.?$/.test(l) && !/exited, status=\d+$/.test(l));
  return (telling.length ? telling : errors).slice(-ERROR_LINES_QUOTED).join("; ");
}

/**
 * The one line for a failed criu action: its last error and its log. When `criu check` fails too,
 * that is the cause to name (an unsupported kernel), not the action's own symptom.
 */
export async function criuFailure(verb: string, criu: string, action: string, log: string, run: CriuRun): Promise<BunruncError> {
  const check = await criuCheck(criu);
  if (!check.ok) return new BunruncError("system", `${verb}: criu cannot run on this kernel (criu check: ${clip(check.why, 200)})`);
  const why = lastError(log) || run.stderr.trim().split("\n").pop() || `exit status ${run.code}`;
  return new BunruncError("system", `${verb}: criu ${action} failed: ${clip(why, 300)} (log: ${log})`);
}

/** `criu check`: whether this kernel (and criu build) can checkpoint at all, and why not. */
export async function criuCheck(criu: string): Promise<{ ok: boolean; why: string }> {
  if (!criuFound(criu)) return { ok: false, why: `${criu}: not found` };
  const p = Bun.spawn([criu, "check"], { stdio: ["ignore", "pipe", "pipe"] });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code === 0) return { ok: true, why: "" };
  const lines = `${out}\n${err}`.split("\n").filter((l) => /Error/.test(l));
  return { ok: false, why: (lines[0] ?? `exit status ${code}`).replace(/^\(\d+\.\d+\)\s*/, "").trim() };
}
