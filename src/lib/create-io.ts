// Host-side I/O create needs around the init: the exec fifo, the console socket, user ns maps.
import * as ffi from "../ffi.ts";
import { procWrite } from "../ffi.ts";
import { BunruncError } from "../base/errors.ts";
import type { IdMapping, Spec } from "../config/types.ts";
import { clip } from "../base/quote.ts";


/** mkfifo with runc's mode (0622: anyone may open it to start the container, only root reads). */
export function makeFifo(path: string): void {
  try {
    ffi.mkfifo(path, 0o622);
  } catch (e) {
    throw new BunruncError("system", `create: ${(e as Error).message}`);
  }
}

/** Connects to the --console-socket; the fd goes to the init, which sends the pty master back on it. */
export function connectConsole(path: string): number {
  try {
    return ffi.unixConnect(path);
  } catch (e) {
    throw new BunruncError("system", `create: --console-socket ${clip(path)}: ${(e as Error).message}`);
  }
}

function mapText(maps: readonly IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}

/** Writes the user namespace's uid/gid maps while the clone3 child waits for our ack. */
export function userNsMaps(child: { pid: number; pidfd: number }, spec: Spec): void {
  const linux = spec.linux ?? {};
  const write = (file: string, maps: readonly IdMapping[] | undefined, where: string) => {
    if (!maps?.length) return;
    try {
      // Through a procfs handle nothing can cover, the child proven alive after (zig/lib.zig).
      procWrite(child.pidfd, child.pid, file, mapText(maps));
    } catch (e) {
      throw new BunruncError("system", `create: ${where}: write /proc/${child.pid}/${file}: ${(e as Error).message}`);
    }
  };
  write("uid_map", linux.uidMappings, "linux.uidMappings");
  write("gid_map", linux.gidMappings, "linux.gidMappings");
}
