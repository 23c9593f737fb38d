// `update [flags] <id>`: runc's flags, or -r FILE|- with a LinuxResources document (then the
// other flags are ignored, as in runc).
import type { VerbInvocation } from "./parse.ts";
import { readResourcesFile, resourcesFromFlags, update } from "../lib/update.ts";
import { log } from "../log.ts";

export default async function updateVerb({ global, flags, args: [id] }: VerbInvocation): Promise<void> {
  const s = (name: string) => (flags[name] as string | undefined) ?? "";
  const file = s("resources");
  const resources = file
    ? readResourcesFile(file)
    : resourcesFromFlags({
        memory: s("memory"),
        memorySwap: s("memory-swap"),
        memoryReservation: s("memory-reservation"),
        kernelMemory: s("kernel-memory"),
        kernelMemoryTcp: s("kernel-memory-tcp"),
        cpuShare: s("cpu-share"),
        cpuPeriod: s("cpu-period"),
        cpuQuota: s("cpu-quota"),
        cpuBurst: s("cpu-burst"),
        cpuRtPeriod: s("cpu-rt-period"),
        cpuRtRuntime: s("cpu-rt-runtime"),
        cpuIdle: s("cpu-idle"),
        cpusetCpus: s("cpuset-cpus"),
        cpusetMems: s("cpuset-mems"),
        pidsLimit: flags["pids-limit"] as number,
        blkioWeight: flags["blkio-weight"] as number,
        l3CacheSchema: s("l3-cache-schema"),
        memBwSchema: s("mem-bw-schema"),
      });
  await update({ root: global.root, id: id!, resources, warn: log.warn });
}
