// runc 1.1's command-line surface as data: every verb, its flags (long name, one-letter alias,
// Go flag type, default) and how many positionals it takes. parse.ts applies Go `flag` rules to
// these tables; commands.ts renders --help from them. Change a flag here and both follow.

/** How a flag's value is read (Go flag / urfave/cli v1 types). */
export type FlagType =
  | "bool" // never takes the next word; --x=false works
  | "string"
  | "int" // strconv.ParseInt(s, 0, 64): 10, 0x1f, 0o17, 017, 0b11
  | "duration" // Go time.ParseDuration: 5s, 1m30s, 250ms
  | "strings" // repeatable: each use appends
  | "int64s"; // repeatable, each an integer

export interface FlagSpec {
  name: string;
  /** One-letter alias (-b == --b == -bundle == --bundle). */
  short?: string;
  type: FlagType;
  description: string;
  default?: string | number | boolean;
  /** Accepted but left out of --help (runc's obsolete update flags). */
  hidden?: boolean;
}

export interface VerbSpec {
  name: string;
  description: string;
  /** Positional part of the usage line, e.g. "<container-id>". */
  argsUsage: string;
  /** Positional count: exact, or a minimum and/or maximum (runc checks min before max). */
  args: { exact: number } | { min?: number; max?: number };
  /** The first positional names a container (checked against runc's id format). */
  takesId: boolean;
  /** exec and ps: flags end at the first positional (`exec ID sh -c x` gives -c to sh). */
  flagsEndAtFirstArg?: boolean;
  flags: readonly FlagSpec[];
}

/** A flag spec with its name and type kept literal, so FlagsOf can type the parsed values. */
function flag<const F extends FlagSpec>(f: F): F {
  return f;
}

const help = flag({ name: "help", short: "h", type: "bool", description: "show help" });

const bundle = (description: string) => flag({ name: "bundle", short: "b", type: "string", description, default: "" });
const consoleSocket = flag({ name: "console-socket", type: "string", description: "AF_UNIX socket that receives the pty master fd when process.terminal is true", default: "" });
const pidFile = flag({ name: "pid-file", type: "string", description: "write the container process's pid to this file", default: "" });
const noPivot = flag({ name: "no-pivot", type: "bool", description: "use MS_MOVE + chroot instead of pivot_root (rootfs on a ramdisk)" });
const noNewKeyring = flag({ name: "no-new-keyring", type: "bool", description: "keep the caller's session keyring instead of creating one" });
const preserveFds = flag({ name: "preserve-fds", type: "int", description: "pass N more fds (from 3 + $LISTEN_FDS) into the container", default: 0 });
const detach = flag({ name: "detach", short: "d", type: "bool", description: "do not wait for the container's process" });
const noSubreaper = flag({ name: "no-subreaper", type: "bool", description: "do not become a subreaper for the container's orphans" });
const criuCommon = [
  flag({ name: "image-path", type: "string", description: "directory of the criu image files", default: "" }),
  flag({ name: "work-path", type: "string", description: "directory for criu work files and logs", default: "" }),
] as const;
const criuSockets = [
  flag({ name: "tcp-established", type: "bool", description: "allow established TCP connections" }),
  flag({ name: "ext-unix-sk", type: "bool", description: "allow external unix sockets" }),
  flag({ name: "shell-job", type: "bool", description: "allow shell jobs" }),
] as const;
const emptyNs = flag({ name: "empty-ns", type: "strings", description: "create this namespace but do not restore its properties" });
const autoDedup = flag({ name: "auto-dedup", type: "bool", description: "deduplicate memory images" });
const lazyPages = flag({ name: "lazy-pages", type: "bool", description: "restore memory pages lazily through userfaultfd" });
const fileLocks = flag({ name: "file-locks", type: "bool", description: "checkpoint and restore file locks" });
const cgroupsMode = flag({ name: "manage-cgroups-mode", type: "string", description: "criu cgroups mode: soft, full or strict", default: "" });
const format = flag({ name: "format", short: "f", type: "string", description: "output format: table or json", default: "table" });

const ID = "<container-id>";
const one = { exact: 1 } as const;

const table = [
  { name: "spec", description: "write a default config.json", argsUsage: "", args: { exact: 0 }, takesId: false, flags: [bundle("bundle directory to write config.json into"), { name: "rootless", type: "bool", description: "a configuration for an unprivileged user" }] },
  { name: "create", description: "create a container (its process waits for start)", argsUsage: ID, args: one, takesId: true, flags: [bundle("bundle directory (default: current directory)"), consoleSocket, pidFile, noPivot, noNewKeyring, preserveFds] },
  { name: "start", description: "start the process of a created container", argsUsage: ID, args: one, takesId: true, flags: [] },
  { name: "run", description: "create and start a container", argsUsage: ID, args: one, takesId: true, flags: [bundle("bundle directory (default: current directory)"), consoleSocket, detach, { name: "keep", type: "bool", description: "keep the container after it exits" }, pidFile, noSubreaper, noPivot, noNewKeyring, preserveFds] },
  {
    name: "exec",
    description: "run a new process inside a container",
    argsUsage: `${ID} <command> [command options]`,
    args: { min: 1 },
    takesId: true,
    flagsEndAtFirstArg: true,
    flags: [
      consoleSocket,
      { name: "cwd", type: "string", description: "working directory in the container", default: "" },
      { name: "env", short: "e", type: "strings", description: "set an environment variable (repeatable)" },
      { name: "tty", short: "t", type: "bool", description: "allocate a pseudo-terminal" },
      { name: "user", short: "u", type: "string", description: "uid[:gid]", default: "" },
      { name: "additional-gids", short: "g", type: "int64s", description: "an additional gid (repeatable)" },
      { name: "process", short: "p", type: "string", description: "path to a process.json", default: "" },
      detach,
      pidFile,
      { name: "process-label", type: "string", description: "SELinux process label", default: "" },
      { name: "apparmor", type: "string", description: "AppArmor profile", default: "" },
      { name: "no-new-privs", type: "bool", description: "set no_new_privs for the process" },
      { name: "cap", short: "c", type: "strings", description: "add a capability (repeatable)" },
      preserveFds,
      { name: "cgroup", type: "strings", description: "run in an existing sub-cgroup: [<controller>:]<path> (repeatable)" },
      { name: "ignore-paused", type: "bool", description: "exec even when the container is paused" },
      { name: "pidfd-socket", type: "string", description: "AF_UNIX socket that receives a pidfd of the exec'd process", default: "" },
    ],
  },
  { name: "state", description: "print a container's state as JSON", argsUsage: ID, args: one, takesId: true, flags: [] },
  { name: "list", description: "list the containers under --root", argsUsage: "", args: { exact: 0 }, takesId: false, flags: [format, { name: "quiet", short: "q", type: "bool", description: "print only container ids" }] },
  { name: "kill", description: "send a signal (default SIGTERM) to a container's init", argsUsage: `${ID} [signal]`, args: { min: 1, max: 2 }, takesId: true, flags: [{ name: "all", short: "a", type: "bool", description: "signal every process of the container" }] },
  { name: "delete", description: "delete a container and what it holds", argsUsage: ID, args: one, takesId: true, flags: [{ name: "force", short: "f", type: "bool", description: "kill (SIGKILL) a running container first" }] },
  { name: "pause", description: "freeze every process of a container", argsUsage: ID, args: one, takesId: true, flags: [] },
  { name: "resume", description: "thaw a paused container", argsUsage: ID, args: one, takesId: true, flags: [] },
  { name: "ps", description: "list the processes of a container", argsUsage: `${ID} [ps options]`, args: { min: 1 }, takesId: true, flagsEndAtFirstArg: true, flags: [format] },
  {
    name: "events",
    description: "stream a container's events and statistics",
    argsUsage: ID,
    args: one,
    takesId: true,
    flags: [
      { name: "interval", type: "duration", description: "statistics interval", default: "5s" },
      { name: "stats", type: "bool", description: "print statistics once and exit" },
    ],
  },
  {
    name: "update",
    description: "change a container's resource limits",
    argsUsage: ID,
    args: one,
    takesId: true,
    flags: [
      { name: "resources", short: "r", type: "string", description: "LinuxResources JSON file, or - for stdin", default: "" },
      { name: "blkio-weight", type: "int", description: "block IO weight (10-1000)", default: 0 },
      ...(["cpu-period", "cpu-quota", "cpu-share", "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems"] as const).map((name) => flag({ name, type: "string", description: `linux.resources.cpu ${name}`, default: "" })),
      { name: "kernel-memory", type: "string", description: "obsolete", default: "", hidden: true },
      { name: "kernel-memory-tcp", type: "string", description: "obsolete", default: "", hidden: true },
      { name: "memory", type: "string", description: "memory limit in bytes", default: "" },
      { name: "memory-reservation", type: "string", description: "memory soft limit in bytes", default: "" },
      { name: "memory-swap", type: "string", description: "memory + swap limit in bytes, -1 for unlimited", default: "" },
      { name: "pids-limit", type: "int", description: "maximum number of pids", default: 0 },
      { name: "l3-cache-schema", type: "string", description: "Intel RDT L3 cache schema", default: "" },
      { name: "mem-bw-schema", type: "string", description: "Intel RDT memory bandwidth schema", default: "" },
    ],
  },
  { name: "features", description: "print the features this runtime supports (JSON)", argsUsage: "", args: { exact: 0 }, takesId: false, flags: [] },
  {
    name: "checkpoint",
    description: "checkpoint a running container with criu",
    argsUsage: ID,
    args: one,
    takesId: true,
    flags: [
      ...criuCommon,
      { name: "parent-path", type: "string", description: "criu images of a previous pre-dump", default: "" },
      { name: "leave-running", type: "bool", description: "keep the container running afterwards" },
      ...criuSockets,
      lazyPages,
      { name: "status-fd", type: "int", description: "fd criu writes \\0 to when lazy pages are ready", default: -1 },
      { name: "page-server", type: "string", description: "ADDRESS:PORT of a criu page server", default: "" },
      fileLocks,
      { name: "pre-dump", type: "bool", description: "dump memory only and leave the container running" },
      cgroupsMode,
      emptyNs,
      autoDedup,
    ],
  },
  {
    name: "restore",
    description: "restore a container from a criu checkpoint",
    argsUsage: ID,
    args: one,
    takesId: true,
    flags: [
      consoleSocket,
      ...criuCommon,
      ...criuSockets,
      fileLocks,
      cgroupsMode,
      bundle("bundle directory"),
      detach,
      pidFile,
      noSubreaper,
      noPivot,
      emptyNs,
      autoDedup,
      lazyPages,
      { name: "lsm-profile", type: "string", description: "LSM profile TYPE:NAME for the restored process", default: "" },
      { name: "lsm-mount-context", type: "string", description: "LSM mount context for the restore", default: "" },
    ],
  },
] as const satisfies readonly VerbSpec[];

/** Every verb by name, in runc's order; each takes -h/--help too. */
export const VERBS: ReadonlyMap<string, VerbSpec> = new Map(table.map((v): [string, VerbSpec] => [v.name, { ...v, flags: [...v.flags, help] }]));

/** Global flags: before the verb only. */
export const GLOBAL_FLAGS = [
  { name: "debug", type: "bool", description: "log at debug level" },
  { name: "log", type: "string", description: "log file (default: stderr)", default: "" },
  { name: "log-format", type: "string", description: "log format: text or json", default: "text" },
  { name: "root", type: "string", description: "state directory (default: /run/bunrunc, or $XDG_RUNTIME_DIR/bunrunc when not root)", default: "" },
  { name: "criu", type: "string", description: "criu binary for checkpoint and restore", default: "criu" },
  { name: "systemd-cgroup", type: "bool", description: 'cgroupsPath is "slice:prefix:name" for systemd' },
  { name: "rootless", type: "string", description: "ignore cgroup permission errors: true, false or auto", default: "auto" },
  help,
  { name: "version", short: "v", type: "bool", description: "print the version" },
] as const satisfies readonly FlagSpec[];

/** A flag table's values by flag name, typed from the table itself (what parse.ts fills in). */
export type FlagsOf<F extends readonly FlagSpec[]> = { [S in F[number] as S["name"]]: FlagValueOf<S> };

type FlagValueOf<S extends FlagSpec> = S["type"] extends "bool"
  ? boolean
  : S["type"] extends "int" | "duration"
    ? number
    : S["type"] extends "strings"
      ? string[]
      : S["type"] extends "int64s"
        ? number[]
        : S extends { default: string }
          ? string
          : string | undefined;

type Table = typeof table;
export type VerbName = Table[number]["name"];
/** The parsed flags of verb `V` (of any of them, for a union). */
export type VerbFlags<V extends VerbName> = FlagsOf<Extract<Table[number], { name: V }>["flags"]> & { help: boolean };
export type GlobalFlags = FlagsOf<typeof GLOBAL_FLAGS>;
