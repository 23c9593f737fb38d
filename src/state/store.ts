// The --root state store: one directory per container, `<root>/<id>/state.json` replaced
// atomically (unique temp file in the same directory, rename), and a per-container lock
// so concurrent verbs on one id run one after another. No fsync: the state describes processes
// that a crash takes with it, the root is normally tmpfs (/run), and on a disk-backed root an
// fsync costs 1-3 ms per write plus journal stalls for the next create (runc does not sync either).
//
// The lock: Bun has no flock(2), and a lock *file* needs stale-owner detection, which races when
// two processes break the same stale lock. Instead the lock is an abstract AF_UNIX socket named
// after the container (`\0bunrunc/<sha256(root, id)>`): bind(2) is exclusive, and the kernel
// releases the name the moment the holder dies, so there is nothing stale to clean up. Limit:
// abstract names are per network namespace, so two bunrunc processes in different network
// namespaces do not exclude each other (engines run the runtime in the host's).
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { BunruncError, notFound } from "../lib/errors.ts";

/** runc's id rule (`^[\w+-.]+$` minus `,`, which its regexp admits by accident), and never `.`/`..`. */
const ID_RE = /^[A-Za-z0-9_+.-]+$/;
const LOCK_WAIT_MS_MAX = 60_000;
const LOCK_POLL_MS_MAX = 20;

export function defaultRoot(): string {
  if (process.getuid?.() === 0 || !process.env.XDG_RUNTIME_DIR) return "/run/bunrunc";
  return join(process.env.XDG_RUNTIME_DIR, "bunrunc");
}

/** Throws runc's error (clients match the text) unless `id` is a valid container id. */
export function validateId(id: string): void {
  if (!ID_RE.test(id) || id === "." || id === "..") throw new BunruncError("usage", "invalid container ID format");
}

export function containerDir(root: string, id: string): string {
  validateId(id);
  return join(root, id);
}

/** Makes `<root>/<id>` (and root, 0711); fails if the container exists. */
export function createContainerDir(root: string, id: string): string {
  const dir = containerDir(root, id);
  mkdirSync(root, { recursive: true, mode: 0o711 });
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new BunruncError("exists", "container with given ID already exists");
    throw new BunruncError("system", `create: mkdir ${dir}: ${(e as Error).message}`);
  }
  return dir;
}

export function removeContainerDir(root: string, id: string): void {
  rmSync(containerDir(root, id), { recursive: true, force: true });
}

export function containerExists(root: string, id: string): boolean {
  try {
    return statSync(containerDir(root, id)).isDirectory();
  } catch {
    return false;
  }
}

/** The parsed state.json; `container does not exist` when there is none. */
export function readStateFile<T>(root: string, id: string): T {
  let text: string;
  try {
    text = readFileSync(join(containerDir(root, id), "state.json"), "utf8");
  } catch {
    throw notFound(id);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new BunruncError("system", `${join(root, id, "state.json")}: ${(e as Error).message}`);
  }
}

let tempSerial = 0;

/** Replaces state.json atomically: readers see the old or the new file, whole, never neither. */
export function writeStateFile(root: string, id: string, state: unknown): void {
  const dir = containerDir(root, id);
  const tmp = join(dir, `.state.json.${process.pid}.${++tempSerial}`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    const bytes = Buffer.from(JSON.stringify(state));
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    closeSync(fd);
    renameSync(tmp, join(dir, "state.json"));
  } catch (e) {
    try {
      closeSync(fd);
    } catch {}
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
}

/** Ids of the directories under root that hold a state.json, sorted; [] when root is missing. */
export function listContainerIds(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && ID_RE.test(d.name))
      .map((d) => d.name);
  } catch {
    return [];
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

function lockName(root: string, id: string): string {
  validateId(id);
  let abs = resolve(root);
  try {
    abs = realpathSync(abs);
  } catch {} // root not made yet (first create): its absolute path names it
  const hash = new Bun.CryptoHasher("sha256").update(`${abs}\0${id}`).digest("hex");
  return `\0bunrunc/${hash}`;
}

function tryBind(name: string): ContainerLock | null {
  try {
    const server = Bun.listen({ unix: name, socket: { data() {} } });
    return { release: () => server.stop(true) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") return null;
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

/** Takes the container's lock, waiting (polling with backoff) while another process holds it. */
export async function lockContainer(root: string, id: string, waitMsMax = lockWaitMsMax): Promise<ContainerLock> {
  const name = lockName(root, id);
  const deadline = Date.now() + waitMsMax;
  for (let delay = 1; ; delay = Math.min(delay * 2, LOCK_POLL_MS_MAX)) {
    const lock = tryBind(name);
    if (lock) return lock;
    if (waitMsMax === 0) throw new LockBusy(id);
    if (Date.now() >= deadline) throw new BunruncError("system", `container ${id}: timed out after ${waitMsMax} ms waiting for another bunrunc operation on it`);
    await Bun.sleep(delay * (0.5 + Math.random()));
  }
}

/** Runs `fn` holding the container's lock. */
export async function withContainerLock<T>(root: string, id: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = await lockContainer(root, id);
  try {
    return await fn();
  } finally {
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
