// `spec`: the starter config.json — the same document `runc spec` writes (busybox `sh` on a tty,
// the default mounts, masked and read-only paths, five namespaces), with ociVersion 1.3.0 and
// two more masked paths that newer engines hide. `rootless` adapts it for an unprivileged user
// as runc does: a user namespace mapping the caller to root, no network namespace, /sys bound
// from the host, no uid=/gid= mount options, no cgroup resources.
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BunruncError } from "../base/errors.ts";
import { strerror } from "../base/errno.ts";
import { clip } from "../base/quote.ts";

export const SPEC_OCI_VERSION = "1.3.0";
const CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
/** Masked beyond runc 1.1's list: information leaks that docker/moby hides as well. */
const EXTRA_MASKED = ["/proc/interrupts", "/sys/devices/virtual/powercap"];

type Mount = { destination: string; type: string; source: string; options?: string[] };

function mounts(): Mount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc" },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
  ];
}

/** The document, keys in the order runc's Go structs serialize them. */
export function defaultSpec(opts: { rootless?: boolean } = {}): Record<string, unknown> {
  const namespaces = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));
  const linux: Record<string, unknown> = opts.rootless
    ? {
        uidMappings: [{ containerID: 0, hostID: process.geteuid!(), size: 1 }],
        gidMappings: [{ containerID: 0, hostID: process.getegid!(), size: 1 }],
        namespaces: [...namespaces.filter((n) => n.type !== "network"), { type: "user" }],
      }
    : { resources: { devices: [{ allow: false, access: "rwm" }] }, namespaces };
  linux.maskedPaths = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", ...EXTRA_MASKED];
  linux.readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
  return {
    ociVersion: SPEC_OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, ambient: CAPS },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runc",
    mounts: opts.rootless ? mounts().map(rootlessMount) : mounts(),
    linux,
  };
}

function rootlessMount(m: Mount): Mount {
  if (m.destination === "/sys") return { destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] };
  if (!m.options) return m;
  return { ...m, options: m.options.filter((o) => !o.startsWith("uid=") && !o.startsWith("gid=")) };
}

export interface SpecOptions {
  /** Directory to write config.json into (default: the current directory). */
  bundle?: string;
  rootless?: boolean;
}

/** Writes `<bundle>/config.json` (tab-indented, like runc); never overwrites one. Returns its path. */
export function writeSpec(opts: SpecOptions = {}): string {
  const dir = resolve(opts.bundle || ".");
  if (opts.bundle) checkDir(opts.bundle, dir);
  const path = join(dir, "config.json");
  const exists = () => new BunruncError("exists", "File config.json exists. Remove it first");
  if (existsSync(path)) throw exists();
  try {
    // "wx": a config.json that appears meanwhile is not overwritten either.
    writeFileSync(path, JSON.stringify(defaultSpec(opts), null, "\t"), { flag: "wx", mode: 0o666 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EEXIST") throw exists();
    throw new BunruncError("system", `open ${clip(path)}: ${err.errno ? strerror(err.errno) : err.message}`);
  }
  return path;
}

/** runc chdirs into --bundle first; its error reads `chdir DIR: <strerror>`. */
function checkDir(given: string, dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new BunruncError("usage", `chdir ${clip(given)}: not a directory`);
  } catch (e) {
    if (e instanceof BunruncError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new BunruncError("usage", `chdir ${clip(given)}: ${err.errno ? strerror(err.errno) : err.message}`);
  }
}
