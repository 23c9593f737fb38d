// `create <id>`: flags -> lib create.
import type { VerbInvocation } from "./parse.ts";
import type { VerbFlags } from "./verbs.ts";
import type { Spawner } from "../lib/spawner.ts";
import { create, type CreateOptions } from "../lib/create.ts";
import { log } from "../log.ts";
import { rootlessCgroups } from "../base/rootless.ts";

type SharedFlags = Pick<VerbFlags<"create">, "bundle" | "pid-file" | "console-socket" | "preserve-fds" | "no-pivot" | "no-new-keyring">;

/** The flags `create` and `run` share, as the library's create options. */
export function createOptions({ global, flags, args: [id] }: Pick<VerbInvocation, "global" | "args"> & { flags: SharedFlags }, spawner: Spawner): CreateOptions {
  return {
    id: id!,
    root: global.root,
    bundle: flags.bundle || process.cwd(),
    pidFile: flags["pid-file"] || undefined,
    consoleSocket: flags["console-socket"] || undefined,
    preserveFds: flags["preserve-fds"],
    noPivot: flags["no-pivot"],
    noNewKeyring: flags["no-new-keyring"],
    systemdCgroup: global.systemdCgroup,
    rootlessCgroups: rootlessCgroups(global.rootless),
    warn: log.warn,
    debug: log.debug,
    spawner,
  };
}

export default async function createVerb(inv: VerbInvocation<"create">, spawner: Spawner): Promise<void> {
  await create(createOptions(inv, spawner));
}
