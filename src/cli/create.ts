// `create <id>`: flags -> lib create.
import type { VerbInvocation } from "./parse.ts";
import type { Spawner } from "../lib/spawner.ts";
import { create, type CreateOptions } from "../lib/create.ts";
import { log } from "../log.ts";

/** The flags `create` and `run` share, as the library's create options. */
export function createOptions({ global, flags, args: [id] }: VerbInvocation, spawner: Spawner): CreateOptions {
  return {
    id: id!,
    root: global.root,
    bundle: (flags.bundle as string) || process.cwd(),
    pidFile: (flags["pid-file"] as string) || undefined,
    consoleSocket: (flags["console-socket"] as string) || undefined,
    preserveFds: flags["preserve-fds"] as number,
    noPivot: flags["no-pivot"] as boolean,
    noNewKeyring: flags["no-new-keyring"] as boolean,
    systemdCgroup: global.systemdCgroup,
    warn: log.warn,
    debug: log.debug,
    spawner,
  };
}

export default async function createVerb(inv: VerbInvocation, spawner: Spawner): Promise<void> {
  await create(createOptions(inv, spawner));
}
