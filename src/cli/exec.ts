// `exec <id> [command...]`: flags -> lib exec; exits with the process's status (0 detached).
// No container lock: a foreground exec lives as long as its process, and kill/delete must get
// through meanwhile (runc does not hold one either).
import type { VerbInvocation } from "./parse.ts";
import { execFor } from "../lib/exec.ts";
import type { Handback, Spawner } from "../lib/spawner.ts";
import { log } from "../log.ts";

const str = (v: string | undefined) => v || undefined;

export default function execVerb({ global, flags, args: [id, ...command] }: VerbInvocation<"exec">, spawner: Spawner): Promise<number | Handback> {
  return execFor({
    root: global.root,
    id: id!,
    processFile: str(flags.process),
    args: command,
    tty: flags.tty,
    cwd: str(flags.cwd),
    env: flags.env,
    user: str(flags.user),
    additionalGids: flags["additional-gids"],
    caps: flags.cap,
    noNewPrivs: flags["no-new-privs"],
    apparmor: str(flags.apparmor),
    processLabel: str(flags["process-label"]),
    consoleSocket: str(flags["console-socket"]),
    detach: flags.detach,
    pidFile: str(flags["pid-file"]),
    preserveFds: flags["preserve-fds"],
    cgroup: flags.cgroup,
    ignorePaused: flags["ignore-paused"],
    pidfdSocket: str(flags["pidfd-socket"]),
    warn: log.warn,
    spawner,
  });
}
