// The --root state store: one directory per container, `<root>/<id>/state.json` replaced
// atomically (unique temp file in the same directory, rename), and a per-container lock
// so concurrent verbs on one id run one after another. No fsync: the state describes processes
// that a crash takes with it, the root is normally tmpfs (/run), and on a disk-backed root an
// fsync costs 1-3 ms per write plus journal stalls for the next create (runc does not sync either).
//
// The lock: flock(2) on `<root>/.<id>.lock`, a root-owned 0600 file in the checked root: the
// kernel drops it when its holder dies (nothing stale to break), only root can open it (an
// abstract socket name, what this was, let any user in the network namespace hold a container's
// lock forever), and it excludes bunrunc processes in every network namespace. A verb that
// removes the container removes the file while it holds it; a waiter that then wins the orphaned
// file sees it is no longer at its name and takes the new one.
//
// Trust: state names host pids to signal and hooks to run, so bunrunc acts only on state no other
// user could have written: the root, the container's directory and state.json must each be owned
// by this user or by root and not writable by group or others, and the directory and state.json
// must not be symbolic links (the root may be: the caller named it). Each is checked with fstat
// on the fd that is then used, and each name is opened relative to the checked directory's fd
// (through /proc/self/fd: Node has no openat), so nothing can be swapped in between.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
import { BunruncError, notFound } from "../base/errors.ts";
import { clip } from "../base/quote.ts";
import { phase } from "../base/timing.ts";
import * as ffi from "../ffi.ts";
import { honorXdgRuntimeDir } from "../base/rootless.ts";
import { removeFastRecord } from "./fast-record.ts";
import { replaceFile } from "./replace-file.ts";

/** runc's id rule (`^[\w+-.]+$` minus `,`, which its regexp admits by accident), and never `.`/`..`. */
const ID_RE = /^[A-Za-z0-9_+.-]+$/;
export const LOCK_WAIT_MS_MAX = 60_000;
const LOCK_POLL_MS_MAX = 20;
/**
 * A state.json holds a config's hooks and annotations and a few fixed fields, and a config.json
 * is at most 8 MiB (src/config/load.ts): anything larger was not written by bunrunc.
 */
export const STATE_BYTES_MAX = 16 * 1024 * 1024;
const GROUP_OTHER_WRITE = 0o022;
const SYSTEM_ROOT = "/run/bunrunc";
const { O_RDONLY, O_RDWR, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** runc's rule (src/base/rootless.ts): `$XDG_RUNTIME_DIR/bunrunc` for a user, else `/run/bunrunc`. */
export function defaultRoot(env: Record<string, string | undefined> = process.env): string {
  if (!honorXdgRuntimeDir(env)) return SYSTEM_ROOT;
  return join(env.XDG_RUNTIME_DIR!, "bunrunc");
}

/** Throws runc's error (clients match the text) unless `id` is a valid container id. */
export function validateId(id: string): void {
  if (!ID_RE.test(id) || id === "." || id === "..") throw new BunruncError("usage", "invalid container ID format");
}

export function containerDir(root: string, id: string): string {
  validateId(id);
  return join(root, id);
}

/** The state root, 0711 (made as needed); a user denied one names what it lacks. */
function makeRoot(root: string): void {
  try {
    mkdirSync(root, { recursive: true, mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EACCES") throw e;
    refuseOthersRoot(root);
    throw new BunruncError("system", `mkdir ${clip(root)}: permission denied${noXdgHint(root)}`);
  }
}

/** Makes `<root>/<id>` (and root, 0711); fails if the container exists. */
export function createContainerDir(root: string, id: string): string {
  const dir = containerDir(root, id);
  makeRoot(root);
  const rootFd = openTrustedDir(root);
  if (rootFd === null) throw new BunruncError("system", `create: ${root} vanished after mkdir`);
  try {
    mkdirSync(under(rootFd, id), { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new BunruncError("exists", "container with given ID already exists");
    throw new BunruncError("system", `create: mkdir ${clip(dir)}: ${(e as Error).message}`);
  } finally {
    closeSync(rootFd);
  }
  return dir;
}

export function removeContainerDir(root: string, id: string): void {
  // The front's record first: a removal killed half way must never leave a record (which the
  // front would act on) without the state.json beside it.
  removeFastRecord(containerDir(root, id));
  rmSync(containerDir(root, id), { recursive: true, force: true });
}

export function containerExists(root: string, id: string): boolean {
  try {
    return statSync(containerDir(root, id)).isDirectory();
  } catch {
    return false;
  }
}

/** The fd path that resolves `name` inside the directory open as `dirFd` (openat without openat). */
const under = (dirFd: number, name: string) => `/proc/self/fd/${dirFd}/${name}`;

/** The refusal for state another user could have written: one line naming the path and why. */
function untrusted(path: string, why: string): BunruncError {
  return new BunruncError("untrusted", `refusing untrusted state: ${clip(path)} ${why}`);
}

/** Throws unless `st` (of `path`) is owned by this user or root and not group/other-writable. */
function checkTrusted(st: Stats, path: string): void {
  const euid = process.geteuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== euid) throw untrusted(path, `is owned by uid ${st.uid}, not by ${euid === 0 ? "root" : `uid ${euid} or root`}`);
  const writers = st.mode & GROUP_OTHER_WRITE;
  if (writers) {
    const who = writers === GROUP_OTHER_WRITE ? "group and others" : writers === 0o020 ? "group" : "others";
    throw untrusted(path, `is writable by ${who} (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`);
  }
}

/** runc's default when XDG_RUNTIME_DIR is unset is the system root, which a user cannot use. */
function noXdgHint(root: string): string {
  return process.geteuid!() !== 0 && resolve(root) === SYSTEM_ROOT && !process.env.XDG_RUNTIME_DIR ? " (XDG_RUNTIME_DIR is unset: set it or pass --root)" : "";
}

/**
 * A user's state root must be its own: root's (or another user's) containers are never reached
 * through it, even where the directory could be read (root's state is root's alone). This one is
 * for a root the user could not open or make: stat says whose it is.
 */
function refuseOthersRoot(path: string): void {
  try {
    checkOwnRoot(statSync(path), path);
  } catch (e) {
    if (e instanceof BunruncError) throw e;
  }
}

function checkOwnRoot(st: Stats, path: string): void {
  const euid = process.geteuid!();
  if (euid === 0 || st.uid === euid) return;
  throw untrusted(path, `is owned by uid ${st.uid}; an unprivileged user's --root must be its own (uid ${euid})${noXdgHint(path)}`);
}

/**
 * Opens a directory and checks it: the root (`at` undefined: `path` is followed, symlinks and all)
 * or `name` inside the directory open as `at` (never a symlink). null when it does not exist.
 */
function openTrustedDir(path: string, at?: { fd: number; name: string }): number | null {
  let fd: number;
  try {
    fd = at ? openSync(under(at.fd, at.name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW) : openSync(path, O_RDONLY | O_DIRECTORY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (at && (code === "ELOOP" || (code === "ENOTDIR" && isSymlink(under(at.fd, at.name))))) throw untrusted(path, "is a symbolic link");
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ENAMETOOLONG") return null;
    if (!at && code === "EACCES") refuseOthersRoot(path);
    throw new BunruncError("system", `open ${clip(path)}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!at) checkOwnRoot(st, path);
    checkTrusted(st, path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The text of `<root>/<id>/state.json` once root, dir and file passed the trust checks; null when missing. */
function readTrustedState(root: string, id: string): string | null {
  const dir = containerDir(root, id);
  const path = join(dir, "state.json");
  const rootFd = openTrustedDir(root);
  if (rootFd === null) return null;
  let dirFd: number | null = null;
  let fd: number | null = null;
  try {
    dirFd = openTrustedDir(dir, { fd: rootFd, name: id });
    if (dirFd === null) return null;
    try {
      fd = openSync(under(dirFd, "state.json"), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP") throw untrusted(path, "is a symbolic link");
      if (code === "ENOENT" || code === "ENAMETOOLONG") return null;
      throw new BunruncError("system", `open ${clip(path)}: ${(e as Error).message}`);
    }
    const st = fstatSync(fd);
    if (!st.isFile()) throw untrusted(path, "is not a regular file");
    checkTrusted(st, path);
    if (st.size > STATE_BYTES_MAX) throw new BunruncError("system", `${clip(path)}: ${st.size} bytes, at most ${STATE_BYTES_MAX}`);
    return readFileSync(fd, "utf8");
  } finally {
    for (const f of [fd, dirFd, rootFd]) if (f !== null) closeSync(f);
  }
}

/**
 * The parsed state.json; `container does not exist` when there is none; a BunruncError with code
 * "untrusted" when the root, the container's directory or state.json could have been written by
 * another user (see Trust above).
 */
export function readStateFile<T>(root: string, id: string): T {
  const text = readTrustedState(root, id);
  if (text === null) throw notFound();
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new BunruncError("system", `${clip(join(root, id, "state.json"))}: ${clip((e as Error).message)}`);
  }
}

/** Whether `e` is the refusal of untrusted state (which no --force may skip). */
export function isUntrustedState(e: unknown): boolean {
  return e instanceof BunruncError && e.code === "untrusted";
}

/** Replaces state.json atomically: readers see the old or the new file, whole, never neither. */
export function writeStateFile(root: string, id: string, state: unknown): void {
  replaceFile(containerDir(root, id), "state.json", Buffer.from(JSON.stringify(state)));
}


/**
 * Ids of the directories under root that hold a state.json, sorted; [] when root is missing.
 * Throws (code "untrusted") when the root itself could have been written by another user.
 */
export function listContainerIds(root: string): string[] {
  const rootFd = openTrustedDir(root);
  if (rootFd === null) return [];
  let names: string[];
  try {
    names = readdirSync(under(rootFd, ""), { withFileTypes: true })
      .filter((d) => d.isDirectory() && ID_RE.test(d.name))
      .map((d) => d.name);
  } catch {
    return [];
  } finally {
    closeSync(rootFd);
  }
  return names.filter((n) => statSafe(join(root, n, "state.json"))).sort();
}

function statSafe(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export interface ContainerLock {
  release(): void;
}

const EWOULDBLOCK = 11;

/** `<root>/.<id>.lock`: never a container directory (those are directories), never listed. */
const lockFileName = (id: string) => `.${id}.lock`;

/** Opens (making it) the container's lock file in its checked root: a plain file of ours or root's, never a link. */
function openLockFile(root: string, id: string): number {
  validateId(id);
  makeRoot(root);
  const rootFd = openTrustedDir(root);
  if (rootFd === null) throw new BunruncError("system", `lock container: ${clip(root)} vanished after mkdir`);
  const path = join(root, lockFileName(id));
  let fd: number;
  try {
    fd = openSync(under(rootFd, lockFileName(id)), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") throw untrusted(path, "is a symbolic link");
    throw new BunruncError("system", `lock container: open ${clip(path)}: ${(e as Error).message}`);
  } finally {
    closeSync(rootFd);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw untrusted(path, "is not a regular file");
    checkTrusted(st, path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** The lock file still is the file at its name (a holder that removed it leaves an orphan behind). */
function stillNamed(fd: number, root: string, id: string): boolean {
  try {
    return lstatSync(join(root, lockFileName(id))).ino === fstatSync(fd).ino;
  } catch {
    return false;
  }
}

/** flock(2) without waiting: true when taken, false when another process holds it. */
function tryFlock(fd: number): boolean {
  try {
    ffi.flock(fd, ffi.LOCK_EX | ffi.LOCK_NB);
    return true;
  } catch (e) {
    if ((e as ffi.FfiError).errno === EWOULDBLOCK) return false;
    throw new BunruncError("system", `lock container: ${(e as Error).message}`);
  }
}

/**
 * Thrown instead of waiting when the process waits for no lock (setLockWaitMsMax(0)): the
 * resident server, where a wait would hold up every other call, hands the call back to its
 * front, which runs it directly and waits there. Nothing was done for the call yet.
 */
export class LockBusy extends Error {
  constructor(id: string) {
    super(`container ${id}: another bunrunc operation holds it`);
  }
}

let lockWaitMsMax = LOCK_WAIT_MS_MAX;

/** How long this process waits for a container's lock (0: not at all, LockBusy instead). */
export function setLockWaitMsMax(ms: number): void {
  lockWaitMsMax = ms;
}

/**
 * Takes the container's lock — flock(2) on `<root>/.<id>.lock` — waiting (polling with backoff)
 * while another process holds it. The kernel releases it when its holder dies; only root (or the
 * root's owner) can open it, and it excludes bunrunc processes in any network namespace.
 */
export async function lockContainer(root: string, id: string, waitMsMax = lockWaitMsMax): Promise<ContainerLock> {
  const deadline = Date.now() + waitMsMax;
  for (let delay = 1; ; delay = Math.min(delay * 2, LOCK_POLL_MS_MAX)) {
    const fd = openLockFile(root, id);
    if (tryFlock(fd)) {
      if (stillNamed(fd, root, id)) return { release: () => closeSync(fd) };
      closeSync(fd);
      continue; // its holder removed it as we took it: take the one at the name now
    }
    closeSync(fd);
    if (waitMsMax === 0) throw new LockBusy(id);
    if (delay === 1) phase("lock.busy"); // BUNRUNC_TIMING=1: this call now waits for another holder
    if (Date.now() >= deadline) throw new BunruncError("system", `container ${id}: timed out after ${waitMsMax} ms waiting for another bunrunc operation on it`);
    await Bun.sleep(delay * (0.5 + Math.random()));
  }
}

/** Runs `fn` holding the container's lock; a container gone after it (deleted, a failed create) takes its lock file along. */
export async function withContainerLock<T>(root: string, id: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = await lockContainer(root, id);
  try {
    return await fn();
  } finally {
    if (!containerExists(root, id)) {
      try {
        unlinkSync(join(root, lockFileName(id)));
      } catch {}
    }
    lock.release();
  }
}

/** Read-modify-write of state.json under the lock (no lost updates between concurrent writers). */
export async function updateStateFile<T>(root: string, id: string, change: (state: T) => T): Promise<T> {
  return withContainerLock(root, id, () => {
    const next = change(readStateFile<T>(root, id));
    writeStateFile(root, id, next);
    return next;
  });
}
