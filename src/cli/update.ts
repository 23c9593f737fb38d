// `update [flags] <id>`: runc's flags, or -r FILE|- with a LinuxResources document (then the
// other flags are ignored, as in runc).
import type { VerbInvocation } from "./parse.ts";
import { readResourcesFile, resourcesFromFlags, update } from "../lib/update.ts";
import { log } from "../log.ts";

export default async function updateVerb({ global, flags, args: [id] }: VerbInvocation<"update">): Promise<void> {
  const file = flags.resources;
  const resources = file
    ? readResourcesFile(file)
    : resourcesFromFlags({
        memory: flags.memory,
        memorySwap: flags["memory-swap"],
        memoryReservation: flags["memory-reservation"],
        kernelMemory: flags["kernel-memory"],
        kernelMemoryTcp: flags["kernel-memory-tcp"],
        cpuShare: flags["cpu-share"],
        cpuPeriod: flags["cpu-period"],
        cpuQuota: flags["cpu-quota"],
        // runc 1.1 has no --cpu-burst or --cpu-idle (verbs.ts): an -r document sets them.
        cpuBurst: "",
        cpuRtPeriod: flags["cpu-rt-period"],
        cpuRtRuntime: flags["cpu-rt-runtime"],
        cpuIdle: "",
        cpusetCpus: flags["cpuset-cpus"],
        cpusetMems: flags["cpuset-mems"],
        pidsLimit: flags["pids-limit"],
        blkioWeight: flags["blkio-weight"],
        l3CacheSchema: flags["l3-cache-schema"],
        memBwSchema: flags["mem-bw-schema"],
      });
  await update({ root: global.root, id: id!, resources, warn: log.warn });
}
