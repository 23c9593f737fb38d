// Client side of rss-sampler.ts: start it before a measured phase, stop it after, get the peaks.
import { join } from "node:path";

export interface MemoryPeak {
  rssKiB: number;
  pssKiB: number;
  samples: number;
  /** The resident server alone (0 for a runtime without one). */
  serverRssKiB: number;
  serverPssKiB: number;
}

export interface Sampler {
  stop(): Promise<MemoryPeak>;
}

/**
 * Samples the processes named by `comms` that are this bench's: below this process, in a cgroup
 * whose name starts with `idMarker` (the containers' ids), or running `serverExe` (the server).
 */
export async function startSampler(comms: RegExp, idMarker: string, serverExe?: string): Promise<Sampler> {
  const args = [comms.source, String(process.pid), idMarker, ...(serverExe ? [serverExe] : [])];
  const proc = Bun.spawn({ cmd: [process.execPath, join(import.meta.dir, "rss-sampler.ts"), ...args], stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  const readLine = async (): Promise<string> => {
    for (;;) {
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("rss-sampler exited early");
      out += decoder.decode(value);
    }
  };
  if ((await readLine()) !== "ready") throw new Error("rss-sampler did not start");
  return {
    async stop() {
      proc.stdin.write("stop\n");
      await proc.stdin.end();
      const peak = JSON.parse(await readLine()) as MemoryPeak;
      await proc.exited;
      return peak;
    },
  };
}
