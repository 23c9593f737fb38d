// `restore <id>`: flags -> lib restore; exits with the restored process's status unless --detach.
// Never served: CRIU runs from bunrunc-core directly, so the restored init is the caller's child.
import type { VerbInvocation } from "./parse.ts";
import { restore } from "../lib/restore.ts";
import { log } from "../log.ts";

export default function restoreVerb({ global, flags, args: [id] }: VerbInvocation<"restore">): Promise<number> {
  return restore({
    root: global.root,
    id: id!,
    criu: global.criu,
    systemdCgroup: global.systemdCgroup,
    bundle: flags.bundle || undefined,
    consoleSocket: flags["console-socket"] || undefined,
    imagePath: flags["image-path"],
    workPath: flags["work-path"],
    tcpEstablished: flags["tcp-established"],
    extUnixSk: flags["ext-unix-sk"],
    shellJob: flags["shell-job"],
    fileLocks: flags["file-locks"],
    manageCgroupsMode: flags["manage-cgroups-mode"],
    detach: flags.detach,
    pidFile: flags["pid-file"] || undefined,
    noSubreaper: flags["no-subreaper"],
    noPivot: flags["no-pivot"],
    emptyNs: flags["empty-ns"],
    autoDedup: flags["auto-dedup"],
    lazyPages: flags["lazy-pages"],
    lsmProfile: flags["lsm-profile"] || undefined,
    lsmMountContext: flags["lsm-mount-context"] || undefined,
    warn: log.warn,
  });
}
