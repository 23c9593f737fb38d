// `run`: create + start, then (unless --detach) wait for the container process without blocking
// Bun's event loop, forwarding signals to it, and exit with its status (128+signal when killed).
// The container is deleted afterwards unless --keep.
import * as ffiModule from "../ffi.ts";
import { createKeepingPidfd, type CreateOptions } from "./create.ts";
import { del } from "./delete.ts";
import { ffi, waitExit } from "./process.ts";
import { SIGNALS } from "./signals.ts";
import { start } from "./start.ts";

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
  /** Do not become a child subreaper (orphans of the container reparent to the host init). */
  noSubreaper?: boolean;
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

const native = ffiModule as unknown as { setChildSubreaper?: () => void };

/** Returns the exit code `bunrunc run` exits with (0 when detached). */
export async function run(opts: RunOptions): Promise<number> {
  if (!opts.detach && !opts.noSubreaper) native.setChildSubreaper?.();
  const { pidfd } = await createKeepingPidfd(opts);
  try {
    await start({ root: opts.root, id: opts.id, warn: opts.warn });
  } catch (e) {
    ffi.close(pidfd);
    await del({ root: opts.root, id: opts.id, force: true }).catch(() => {});
    throw e;
  }
  if (opts.detach) {
    ffi.close(pidfd);
    return 0;
  }
  const handlers = FORWARDED.map((name) => {
    const handler = () => {
      try {
        ffi.pidfdSendSignal(pidfd, SIGNALS[name.slice(3)]!);
      } catch {}
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  let code: number;
  try {
    const r = await waitExit(pidfd, true);
    code = r === null ? 0 : r.signal ? 128 + r.signal : r.status;
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler);
    ffi.close(pidfd);
  }
  if (!opts.keep) await del({ root: opts.root, id: opts.id, force: true, warn: opts.warn });
  return code;
}
