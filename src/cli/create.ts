// `create <id>`: flags -> lib create, under the container's lock.
import type { VerbInvocation } from "./parse.ts";
import type { Spawner } from "../lib/spawner.ts";
import { create, type CreateOptions } from "../lib/create.ts";
import { log } from "../log.ts";
import { withContainerLock } from "../state/store.ts";
import { warnUnsupportedGlobals } from "./globals.ts";
import { rootlessCgroups } from "../rootless.ts";

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
    rootlessCgroups: rootlessCgroups(global.rootless),
    warn: log.warn,
    debug: log.debug,
    spawner,
  };
}

export default async function createVerb(inv: VerbInvocation, spawner: Spawner): Promise<void> {
  warnUnsupportedGlobals(inv.global);
  await withContainerLock(inv.global.root, inv.args[0]!, () => create(createOptions(inv, spawner)));
}
