// `checkpoint <id>`: flags -> lib checkpoint. Never served: CRIU
// runs from bunrunc-core directly (src/server/admission.ts).
import type { VerbInvocation } from "./parse.ts";
import { checkpoint } from "../lib/checkpoint.ts";
import { log } from "../log.ts";

export default async function checkpointVerb({ global, flags, args: [id] }: VerbInvocation<"checkpoint">): Promise<void> {
  await checkpoint({
    root: global.root,
    id: id!,
    criu: global.criu,
    imagePath: flags["image-path"],
    workPath: flags["work-path"],
    parentPath: flags["parent-path"] || undefined,
    leaveRunning: flags["leave-running"],
    tcpEstablished: flags["tcp-established"],
    extUnixSk: flags["ext-unix-sk"],
    shellJob: flags["shell-job"],
    lazyPages: flags["lazy-pages"],
    statusFd: flags["status-fd"],
    pageServer: flags["page-server"] || undefined,
    fileLocks: flags["file-locks"],
    preDump: flags["pre-dump"],
    manageCgroupsMode: flags["manage-cgroups-mode"],
    emptyNs: flags["empty-ns"],
    autoDedup: flags["auto-dedup"],
    warn: log.warn,
  });
}
