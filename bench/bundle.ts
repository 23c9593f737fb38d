// The bench's bundles: one busybox-static rootfs and the config `runc spec` writes (terminal off),
// copied into one bundle per runtime so neither sees what the other left behind. The config is
// written here, not taken from test helpers, so results stay comparable across commits.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const BUSYBOX = "/bin/busybox";
const APPLETS = ["sh", "true", "sleep"];
const CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/** True when /bin/busybox is the static build (Debian busybox-static): no loader in the rootfs. */
export function busyboxIsStatic(): boolean {
  if (!existsSync(BUSYBOX)) return false;
  const head = readFileSync(BUSYBOX).subarray(0, 4096).toString("latin1");
  return !head.includes("/lib64/ld-linux") && !head.includes("/lib/ld-linux");
}

function config(args: string[], hooks?: object): object {
  return {
    ...(hooks ? { hooks } : {}),
    ociVersion: "1.0.2-dev",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, ambient: CAPS },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runc",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

function rootfs(dir: string): void {
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, "bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  for (const a of APPLETS) symlinkSync("busybox", join(dir, "bin", a));
}

export interface Bundles {
  /** Runs /bin/true. */
  trueBundle: string;
  /** Runs /bin/sleep for exec to enter. */
  sleepBundle: string;
  /** Runs /bin/true, with a prestart hook (the host's /bin/true), as Docker's containers with their own network namespace have. */
  hookBundle: string;
  rootfs: string;
}

/** `<dir>/true` and `<dir>/sleep`, each a full bundle with its own rootfs copy. */
export function makeBundles(dir: string): Bundles {
  const make = (name: string, args: string[], hooks?: object) => {
    const b = join(dir, name);
    rootfs(join(b, "rootfs"));
    writeFileSync(join(b, "config.json"), JSON.stringify(config(args, hooks), null, 2));
    return b;
  };
  const trueBundle = make("true", ["/bin/true"]);
  const hookBundle = make("hooked", ["/bin/true"], { prestart: [{ path: "/bin/true", args: ["true"] }] });
  return { trueBundle, sleepBundle: make("sleep", ["/bin/sleep", "100000"]), hookBundle, rootfs: join(trueBundle, "rootfs") };
}
