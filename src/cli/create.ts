// `create <id>`: flags -> lib create, under the container's lock.
import type { VerbInvocation } from "./parse.ts";
import { create } from "../lib/create.ts";
import { log } from "../log.ts";
import { withContainerLock } from "../state/store.ts";
import { warnUnsupportedGlobals } from "./globals.ts";

export default async function createVerb({ global, flags, args: [id] }: VerbInvocation): Promise<void> {
  warnUnsupportedGlobals(global);
  await withContainerLock(global.root, id!, () =>
    create({
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
    }),
  );
}
