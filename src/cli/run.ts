// `run <id>`: flags -> lib run; exits with the container process's status.
// No container lock here: run holds the container for its whole life, and kill/delete from
// other processes must still get through while it waits.
import type { VerbInvocation } from "./parse.ts";
import { run } from "../lib/run.ts";
import { log } from "../log.ts";
import { warnUnsupportedGlobals } from "./globals.ts";

export default function runVerb({ global, flags, args: [id] }: VerbInvocation): Promise<number> {
  warnUnsupportedGlobals(global);
  return run({
    id: id!,
    root: global.root,
    bundle: (flags.bundle as string) || process.cwd(),
    pidFile: (flags["pid-file"] as string) || undefined,
    consoleSocket: (flags["console-socket"] as string) || undefined,
    preserveFds: flags["preserve-fds"] as number,
    noPivot: flags["no-pivot"] as boolean,
    noNewKeyring: flags["no-new-keyring"] as boolean,
    systemdCgroup: global.systemdCgroup,
    detach: flags.detach as boolean,
    keep: flags.keep as boolean,
    noSubreaper: flags["no-subreaper"] as boolean,
    warn: log.warn,
    debug: log.debug,
  });
}
