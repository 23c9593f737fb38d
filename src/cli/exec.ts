// `exec <id> [command...]`: flags -> lib exec; exits with the process's status (0 detached).
// No container lock: a foreground exec lives as long as its process, and kill/delete must get
// through meanwhile (runc does not hold one either).
import type { VerbInvocation } from "./parse.ts";
import { execFor } from "../lib/exec.ts";
import type { Handback, Spawner } from "../lib/spawner.ts";
import { log } from "../log.ts";

const str = (v: unknown) => (v as string) || undefined;

export default function execVerb({ global, flags, args: [id, ...command] }: VerbInvocation, spawner: Spawner): Promise<number | Handback> {
  return execFor({
    root: global.root,
    id: id!,
    processFile: str(flags.process),
    args: command,
    tty: flags.tty as boolean,
    cwd: str(flags.cwd),
    env: flags.env as string[],
    user: str(flags.user),
    additionalGids: flags["additional-gids"] as number[],
    caps: flags.cap as string[],
    noNewPrivs: flags["no-new-privs"] as boolean,
    apparmor: str(flags.apparmor),
    processLabel: str(flags["process-label"]),
    consoleSocket: str(flags["console-socket"]),
    detach: flags.detach as boolean,
    pidFile: str(flags["pid-file"]),
    preserveFds: flags["preserve-fds"] as number,
    cgroup: flags.cgroup as string[],
    ignorePaused: flags["ignore-paused"] as boolean,
    pidfdSocket: str(flags["pidfd-socket"]),
    warn: log.warn,
    spawner,
  });
}
