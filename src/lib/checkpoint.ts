// `checkpoint`: a running container's process tree dumped to images by CRIU (`criu dump`, or
// `criu pre-dump` for an iterative migration's memory-only rounds). The container is frozen
// through its cgroup while CRIU collects it; unless --leave-running or --pre-dump it is gone
// afterwards and deleted as runc deletes it (cgroup, state, poststop hooks).
import { mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSpec } from "./bundle.ts";
import { readState, refresh, type ContainerState } from "./container.ts";
import { commonArgs, criuFailure, criuFound, criuPaths, DESCRIPTORS_FILE, DUMP_LOG, STDIO_KEYS_FILE, EXT_NETNS_KEY, externalMounts, joinedNetns, nsInode, runCriu, type CriuCommon } from "./criu.ts";
import { deleteHeld } from "./delete.ts";
import { BunruncError } from "../base/errors.ts";
import { quote } from "../base/quote.ts";
import { withContainerLock } from "../state/store.ts";

export interface CheckpointOptions extends Partial<CriuCommon> {
  root: string;
  id: string;
  /** --parent-path: the images of a previous pre-dump, relative to imagePath (or absolute). */
  parentPath?: string;
  leaveRunning?: boolean;
  preDump?: boolean;
  /** --status-fd: criu writes \0 to it when lazy pages are ready to be served. */
  statusFd?: number;
  /** --page-server ADDRESS:PORT: memory pages go to a criu page server instead of the images. */
  pageServer?: string;
  warn?: (message: string) => void;
}

const VERB = "checkpoint";
const STDIO = [0, 1, 2];

/** Dumps the container through criu, holding its lock (src/state/store.ts). */
export function checkpoint(opts: CheckpointOptions): Promise<void> {
  return withContainerLock(opts.root, opts.id, () => checkpointHeld(opts));
}

async function checkpointHeld(opts: CheckpointOptions): Promise<void> {
  const criu = opts.criu || "criu";
  if (!criuFound(criu)) throw new BunruncError("system", `${VERB}: criu (${quote(criu)}) is not installed; install criu or name it with --criu`);
  const saved = readState(opts.root, opts.id);
  const s = refresh(opts.root, saved);
  if (s.status !== "running" && s.status !== "paused") throw new BunruncError("bad-state", `container ${opts.id} is not running: ${s.status}`);
  const { imagePath, workPath } = criuPaths(opts.imagePath, opts.workPath);
  mkdirSync(imagePath, { recursive: true, mode: 0o700 });
  mkdirSync(workPath, { recursive: true, mode: 0o700 });
  const log = join(workPath, DUMP_LOG);
  const args = [opts.preDump ? "pre-dump" : "dump", "--tree", String(saved.pid), ...commonArgs(VERB, { ...opts, criu, imagePath, workPath }, log)];
  args.push("--root", saved.rootfs);
  args.push(...freezeCgroup(saved));
  const spec = loadSpec(saved.bundle);
  args.push(...externalMounts(spec, saved.bundle, saved.rootfs, "dump"));
  // A terminal's slave is bound onto /dev/console; restore binds its new pty's slave there.
  if (spec.process?.terminal) args.push("--external", "mnt[/dev/console]:/dev/console");
  const netns = joinedNetns(spec);
  if (netns) args.push("--external", `net[${nsInode(netns)}]:${EXT_NETNS_KEY}`);
  if (opts.parentPath) args.push("--prev-images-dir", opts.parentPath);
  if (opts.parentPath || opts.preDump) args.push("--track-mem");
  if (opts.leaveRunning && !opts.preDump) args.push("--leave-running");
  const extraFds: number[] = [];
  if (opts.statusFd !== undefined && opts.statusFd >= 0) {
    extraFds.push(opts.statusFd);
    args.push("--status-fd", String(3 + extraFds.length - 1));
  }
  if (opts.pageServer) args.push("--page-server", ...pageServer(opts.pageServer));
  if (!opts.preDump) args.push(...writeDescriptors(imagePath, saved));
  const r = await runCriu(VERB, criu, args, { extraFds });
  if (r.code !== 0) throw await criuFailure(VERB, criu, args[0]!, log, r);
  if (opts.leaveRunning || opts.preDump) return;
  await deleteHeld({ root: opts.root, id: opts.id, force: true, warn: opts.warn });
}

/** CRIU freezes the tree through the container's freezer (v1) or cgroup.freeze (v2) instead of ptrace-stopping it task by task. */
function freezeCgroup(s: ContainerState): string[] {
  const b = s.bunrunc;
  const dir = b.cgroupVersion === 2 ? b.cgroupPaths[""] : b.cgroupPaths.freezer;
  return dir ? ["--freeze-cgroup", dir] : [];
}

/** ADDRESS:PORT -> criu's --address/--port (an IPv6 address keeps its colons). */
function pageServer(value: string): string[] {
  const i = value.lastIndexOf(":");
  const port = value.slice(i + 1);
  if (i <= 0 || !/^\d+$/.test(port)) throw new BunruncError("usage", `${VERB}: --page-server: ${quote(value)} is not ADDRESS:PORT`);
  return ["--address", value.slice(0, i).replace(/^\[(.*)\]$/, "$1"), "--port", port];
}

/**
 * What fds 0-2 of the init were: runc's descriptors.json (their paths), and beside it the CRIU
 * key each is inherited back under (STDIO_KEYS_FILE): restore hands its own stdio to CRIU in their
 * place, so the restored process writes where its new caller reads. A pipe is its own key; a
 * terminal or a file the container cannot see (the caller's /dev/null, a log file) is dumped as
 * external, which is also what lets CRIU dump it at all. Returns criu's --external options.
 */
function writeDescriptors(imagePath: string, s: ContainerState): string[] {
  const paths = STDIO.map((fd) => {
    try {
      return readlinkSync(`/proc/${s.pid}/fd/${fd}`);
    } catch {
      return "";
    }
  });
  writeFileSync(join(imagePath, DESCRIPTORS_FILE), JSON.stringify(paths), { mode: 0o600 });
  const visible = containerMountIds(s.pid);
  const keys = STDIO.map((fd) => stdioKey(s.pid, fd, paths[fd]!, visible));
  writeFileSync(join(imagePath, STDIO_KEYS_FILE), JSON.stringify(keys), { mode: 0o600 });
  const external = new Set(keys.filter((k) => k && !k.startsWith("pipe:")));
  return [...external].flatMap((k) => ["--external", k]);
}

function stdioKey(pid: number, fd: number, path: string, visible: Set<number>): string {
  if (!path || path.startsWith("socket:") || path.startsWith("anon_inode:")) return "";
  if (path.startsWith("pipe:")) return path;
  let st;
  try {
    st = statSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return "";
  }
  if (st.isCharacterDevice() && TTY_MAJORS.has(Number(BigInt(st.rdev) >> 8n) & 0xfff)) return `tty[${st.rdev.toString(16)}:${st.dev.toString(16)}]`;
  const mnt = fdMountId(pid, fd);
  if (mnt === undefined || visible.has(mnt)) return "";
  return `file[${mnt.toString(16)}:${st.ino.toString(16)}]`;
}

/** pty slaves (136-143) and the other tty majors CRIU dumps as terminals. */
const TTY_MAJORS = new Set([4, 5, 136, 137, 138, 139, 140, 141, 142, 143]);

function fdMountId(pid: number, fd: number): number | undefined {
  try {
    const m = /^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The mount ids in the init's mount namespace: a file on any other mount is outside the container. */
function containerMountIds(pid: number): Set<number> {
  try {
    return new Set(readFileSync(`/proc/${pid}/mountinfo`, "utf8").split("\n").filter(Boolean).map((l) => Number(l.split(" ")[0])));
  } catch {
    return new Set();
  }
}
