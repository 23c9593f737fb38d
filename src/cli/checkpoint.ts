// `checkpoint <id>`: flags -> lib checkpoint. Never served: CRIU
// runs from bunrunc-core directly (src/server/admission.ts).
import type { VerbInvocation } from "./parse.ts";
import { checkpoint } from "../lib/checkpoint.ts";
import { log } from "../log.ts";

export default async function checkpointVerb({ global, flags, args: [id] }: VerbInvocation): Promise<void> {
  await checkpoint({
    root: global.root,
    id: id!,
    criu: global.criu,
    imagePath: flags["image-path"] as string,
    workPath: flags["work-path"] as string,
    parentPath: (flags["parent-path"] as string) || undefined,
    leaveRunning: flags["leave-running"] as boolean,
    tcpEstablished: flags["tcp-established"] as boolean,
    extUnixSk: flags["ext-unix-sk"] as boolean,
    shellJob: flags["shell-job"] as boolean,
    lazyPages: flags["lazy-pages"] as boolean,
    statusFd: flags["status-fd"] as number,
    pageServer: (flags["page-server"] as string) || undefined,
    fileLocks: flags["file-locks"] as boolean,
    preDump: flags["pre-dump"] as boolean,
    manageCgroupsMode: flags["manage-cgroups-mode"] as string,
    emptyNs: flags["empty-ns"] as string[],
    autoDedup: flags["auto-dedup"] as boolean,
    warn: log.warn,
  });
}
