// `restore`: a container made again from CRIU images (`criu restore`) under a new or the same id,
// with the bundle's config: its cgroup made and limited as create makes it, CRIU started inside
// it (and told it as --cgroup-root), bind mounts and file masks mapped back to their host
// sources, a joined network namespace and the caller's stdio pipes handed to CRIU in place of the
// dumped ones. The restored init becomes our child (--restore-sibling), so the caller (or its
// subreaper) reaps it as it would a created container; then state.json and the pid file.
// Without --detach bunrunc waits for it, forwarding signals, and deletes it afterwards (runc).
import { closeSync, existsSync, openSync, readFileSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLONE, NAMESPACE_FLAGS } from "../plan/linux.ts";
import { CGROUP_ROOT } from "../cgroups/paths.ts";
import { cgroupFor, type LifecycleCgroup } from "./container-cgroup.ts";
import { loadSpec, rootfsOf } from "./bundle.ts";
import { makeStateDir, removeStateDir, stateDir, writeState, type ContainerState } from "./container.ts";
import { connectConsole } from "./create-io.ts";
import { writePidFile } from "../state/pid-file.ts";
import { commonArgs, criuFailure, criuFound, criuPaths, DESCRIPTORS_FILE, EXT_NETNS_KEY, STDIO_KEYS_FILE, externalMounts, joinedNetns, makeMountpoints, RESTORE_LOG, runCriu, type CriuCommon } from "./criu.ts";
import { del } from "./delete.ts";
import { BunruncError } from "../base/errors.ts";
import { catchSignals } from "./foreground.ts";
import { rfc3339Nano } from "../base/rfc3339.ts";
import * as ffi from "../ffi.ts";
import { procStat } from "./init-process.ts";
import { resourcesForState } from "./resources-record.ts";
import { hasRestoreHooks, restoreHooks, type RestoreHooks } from "./restore-hooks.ts";
import { restoreTerminal, type TerminalRestore } from "./restore-tty.ts";
import { quote } from "../base/quote.ts";
import { withContainerLock } from "../state/store.ts";

export interface RestoreOptions extends Partial<CriuCommon> {
  root: string;
  id: string;
  /** The bundle whose config.json describes the restored container (default: the current directory). */
  bundle?: string;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  noSubreaper?: boolean;
  /** Accepted for runc's command line: CRIU always restores with pivot_root. */
  noPivot?: boolean;
  /** --lsm-profile TYPE:NAME and --lsm-mount-context: CRIU's own options, passed on. */
  lsmProfile?: string;
  lsmMountContext?: string;
  systemdCgroup?: boolean;
  warn?: (message: string) => void;
}

const VERB = "restore";
const FIRST_EXTRA_FD = 3;
const STDIO = [0, 1, 2];
const CONSOLE = "/dev/console";

/** The exit code `bunrunc restore` exits with: 0 detached, else the restored process's status. */
export async function restore(opts: RestoreOptions): Promise<number> {
  const criu = opts.criu || "criu";
  if (!criuFound(criu)) throw new BunruncError("system", `${VERB}: criu (${quote(criu)}) is not installed; install criu or name it with --criu`);
  const bundle = resolve(opts.bundle || process.cwd());
  const spec = loadSpec(bundle);
  const rootfs = rootfsOf(bundle, spec);
  const { imagePath, workPath } = criuPaths(opts.imagePath, opts.workPath);
  if (!existsSync(imagePath)) throw new BunruncError("usage", `${VERB}: --image-path: ${quote(imagePath)} does not exist`);
  const fg = opts.detach ? undefined : catchSignals();
  let state: ContainerState;
  try {
    // The container's lock for the restore itself, as create holds it; not for the wait after.
    state = await withContainerLock(opts.root, opts.id, () => restoreHeld({ ...opts, criu, bundle, imagePath, workPath }, spec, rootfs));
  } catch (e) {
    fg?.release();
    throw e;
  }
  if (!fg) return 0;
  const pidfd = ffi.pidfdOpen(state.pid);
  const code = await fg.wait({ pidfd, pid: state.pid });
  await del({ root: opts.root, id: opts.id, force: true, warn: opts.warn });
  return code;
}

type Resolved = RestoreOptions & { criu: string; bundle: string; imagePath: string; workPath: string };

/** The state dir, then restoreIn; what it made is undone when it fails. The caller holds the lock. */
async function restoreHeld(opts: Resolved, spec: ReturnType<typeof loadSpec>, rootfs: string): Promise<ContainerState> {
  makeStateDir(opts.root, opts.id);
  const cleanup: (() => void)[] = [() => removeStateDir(opts.root, opts.id)];
  const fds: number[] = [];
  try {
    return await restoreIn(opts, spec, rootfs, cleanup, fds);
  } catch (e) {
    for (const undo of cleanup.reverse()) {
      try {
        undo();
      } catch {}
    }
    throw e instanceof BunruncError ? e : new BunruncError("system", `${VERB}: ${(e as Error).message}`);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

async function restoreIn(opts: Resolved, spec: ReturnType<typeof loadSpec>, rootfs: string, cleanup: (() => void)[], fds: number[]): Promise<ContainerState> {
  const cg: LifecycleCgroup = cgroupFor(opts.id, spec.linux?.cgroupsPath, { resources: spec.linux?.resources, systemd: opts.systemdCgroup, scope: false });
  cg.create();
  cleanup.push(() => cg.destroy());

  const log = join(opts.workPath, RESTORE_LOG);
  const dir = stateDir(opts.root, opts.id);
  const pidPath = join(dir, "restore.pid");
  const args = ["restore", ...commonArgs(VERB, opts, log), "--root", rootfs, "--restore-detached", "--restore-sibling", "--pidfile", pidPath];
  args.push(...cgroupRoots(cg));
  args.push(...externalMounts(spec, opts.bundle, rootfs, "restore"));
  makeMountpoints(spec, opts.bundle, rootfs);
  if (opts.lsmProfile) args.push("--lsm-profile", opts.lsmProfile);
  if (opts.lsmMountContext) args.push("--lsm-mount-context", opts.lsmMountContext);

  // Extra fds: criu's 3, 4, ... in this order.
  const extraFds: number[] = [];
  const inherit = (fd: number, key: string) => {
    extraFds.push(fd);
    args.push("--inherit-fd", `fd[${FIRST_EXTRA_FD + extraFds.length - 1}]:${key}`);
  };
  const netns = joinedNetns(spec);
  if (netns) {
    const fd = openSync(netns, "r");
    fds.push(fd);
    inherit(fd, EXT_NETNS_KEY);
  }
  let tty: TerminalRestore | undefined;
  if (spec.process?.terminal) {
    if (!opts.consoleSocket) throw new BunruncError("usage", `${VERB}: --console-socket: required when process.terminal is true`);
    tty = restoreTerminal(opts.imagePath);
    fds.push(tty.slave, tty.master);
    inherit(tty.slave, tty.key);
    args.push("--external", `mnt[${CONSOLE}]:${tty.slavePath}`);
  } else {
    if (opts.consoleSocket) throw new BunruncError("usage", `${VERB}: --console-socket: only valid when process.terminal is true`);
    for (const [fd, what] of stdioPipes(opts.imagePath)) inherit(copyOf(fd, fds), what);
  }

  const hooks: RestoreHooks | undefined = hasRestoreHooks(spec.hooks) ? restoreHooks(dir, spec.hooks!) : undefined;
  if (hooks) {
    args.push(...hooks.args);
    cleanup.push(() => hooks.close());
  }
  const state: ContainerState = {
    ociVersion: spec.ociVersion,
    id: opts.id,
    pid: 0,
    status: "running",
    bundle: opts.bundle,
    rootfs,
    created: rfc3339Nano(),
    owner: "",
    bunrunc: { initStartTime: "", cgroupPaths: cg.paths, cgroupVersion: cg.version, hooks: spec.hooks, ownPidNs: ownsPidNs(spec) },
  };
  if (spec.annotations && Object.keys(spec.annotations).length) state.annotations = spec.annotations;
  if (spec.linux?.resources) state.bunrunc.resources = resourcesForState(spec.linux.resources);

  let exited: Promise<number> = Promise.resolve(0);
  const running = runCriu(VERB, opts.criu, args, { extraFds, prefix: joinCgroupThenExec(cg), env: hooks?.env, started: (p) => (exited = p) });
  const hookError = hooks ? await hooks.serve(state, exited) : undefined;
  const r = await running;
  if (hooks) hooks.close(), cleanup.pop();
  const pid = readPid(pidPath);
  if (r.code !== 0 || hookError || !pid) {
    if (pid) cleanup.push(() => ffi.close(killAndReap(pid)));
    if (hookError) throw new BunruncError("system", `${VERB}: ${hookError}`);
    throw await criuFailure(VERB, opts.criu, "restore", log, r);
  }
  cleanup.push(() => ffi.close(killAndReap(pid)));
  try {
    unlinkSync(pidPath);
  } catch {}
  const st = procStat(pid);
  if (!st) throw new BunruncError("system", `${VERB}: the restored process ${pid} exited at once (log: ${log})`);
  state.pid = pid;
  state.bunrunc.initStartTime = st.startTime;
  if (tty) tty.send(connectAndKeep(opts.consoleSocket!, fds));
  writeState(opts.root, state);
  if (opts.pidFile) writePidFile(opts.pidFile, pid);
  return state;
}

/** The restored tree's own pid namespace (not joined by path): killing its init kills it all. */
function ownsPidNs(spec: ReturnType<typeof loadSpec>): boolean {
  const flags = (spec.linux?.namespaces ?? []).filter((n) => !n.path).reduce((f, n) => f | (NAMESPACE_FLAGS[n.type as keyof typeof NAMESPACE_FLAGS] ?? 0), 0);
  return Boolean(flags & CLONE.NEWPID);
}

/**
 * criu is started through a shell that first moves itself into the container's cgroup (writing 0
 * to cgroup.procs moves the writer), then execs criu: what CRIU restores starts there.
 */
function joinCgroupThenExec(cg: LifecycleCgroup): string[] {
  const procs = [...new Set(Object.values(cg.paths))].map((d) => join(d, "cgroup.procs"));
  return ["/bin/sh", "-c", 'while [ "$1" != -- ]; do echo 0 > "$1" || exit 126; shift; done; shift; exec "$@"', "sh", ...procs, "--"];
}

/** The container's cgroup for CRIU, relative to each hierarchy's root. */
function cgroupRoots(cg: LifecycleCgroup): string[] {
  const args: string[] = [];
  for (const [ctrl, dir] of Object.entries(cg.paths)) {
    const parts = dir.slice(CGROUP_ROOT.length).split("/").filter(Boolean);
    if (cg.version === 2) args.push("--cgroup-root", `/${parts.join("/")}`);
    else args.push("--cgroup-root", `${ctrl}:/${parts.slice(1).join("/")}`);
  }
  return args;
}

/**
 * Our fds 0-2 for the dumped stdio: under the keys bunrunc's checkpoint recorded (pipes, and the
 * files and terminals it dumped as external), else runc's descriptors.json, whose pipes only are
 * handed over (as runc does).
 */
function stdioPipes(imagePath: string): [number, string][] {
  const read = (name: string): unknown[] => {
    try {
      const v = JSON.parse(readFileSync(join(imagePath, name), "utf8"));
      return Array.isArray(v) ? v : [];
    } catch {
      return [];
    }
  };
  const keys = read(STDIO_KEYS_FILE);
  const names = keys.length ? keys : read(DESCRIPTORS_FILE).map((n) => (typeof n === "string" && n.startsWith("pipe:") ? n : ""));
  return STDIO.filter((fd) => typeof names[fd] === "string" && names[fd] !== "").map((fd) => [fd, names[fd] as string]);
}

function readPid(path: string): number {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** A restored process that must not survive a failed restore: killed and reaped (it is our child). */
function killAndReap(pid: number): number {
  const fd = ffi.pidfdOpen(pid);
  try {
    ffi.pidfdSendSignal(fd, 9);
    ffi.waitPidfd(fd, false);
  } catch {}
  return fd;
}

/**
 * A copy of `fd` under a new number: Bun's spawn cannot place our fd 0 as a child's extra fd
 * (a 0 there is taken for "none"), so every stdio fd goes through a copy.
 */
function copyOf(fd: number, fds: number[]): number {
  const copy = openSync("/dev/null", "r");
  fds.push(copy);
  ffi.dup2(fd, copy);
  return copy;
}

function connectAndKeep(path: string, fds: number[]): number {
  const sock = connectConsole(path);
  fds.push(sock);
  return sock;
}
