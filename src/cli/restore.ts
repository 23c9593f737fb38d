// `restore <id>`: flags -> lib restore; exits with the restored process's status unless --detach.
// Never served: CRIU runs from bunrunc-core directly, so the restored init is the caller's child.
import type { VerbInvocation } from "./parse.ts";
import { restore } from "../lib/restore.ts";
import { log } from "../log.ts";

export default function restoreVerb({ global, flags, args: [id] }: VerbInvocation): Promise<number> {
  return restore({
    root: global.root,
    id: id!,
    criu: global.criu,
    systemdCgroup: global.systemdCgroup,
    bundle: (flags.bundle as string) || undefined,
    consoleSocket: (flags["console-socket"] as string) || undefined,
    imagePath: flags["image-path"] as string,
    workPath: flags["work-path"] as string,
    tcpEstablished: flags["tcp-established"] as boolean,
    extUnixSk: flags["ext-unix-sk"] as boolean,
    shellJob: flags["shell-job"] as boolean,
    fileLocks: flags["file-locks"] as boolean,
    manageCgroupsMode: flags["manage-cgroups-mode"] as string,
    detach: flags.detach as boolean,
    pidFile: (flags["pid-file"] as string) || undefined,
    noSubreaper: flags["no-subreaper"] as boolean,
    noPivot: flags["no-pivot"] as boolean,
    emptyNs: flags["empty-ns"] as string[],
    autoDedup: flags["auto-dedup"] as boolean,
    lazyPages: flags["lazy-pages"] as boolean,
    lsmProfile: (flags["lsm-profile"] as string) || undefined,
    lsmMountContext: (flags["lsm-mount-context"] as string) || undefined,
    warn: log.warn,
  });
}
