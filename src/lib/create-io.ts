// Host-side I/O create needs around the init: the exec fifo, the console socket (user ns maps:
// userns-maps.ts).
import * as ffi from "../ffi.ts";
import { BunruncError } from "../base/errors.ts";
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
