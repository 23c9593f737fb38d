// Waiting for a container process in the foreground (`run`, `exec` without --detach): the
// signals a user or supervisor sends bunrunc go on to the process, the terminal (if bunrunc
// holds the pty master) is relayed, and the exit status comes back as runc reports it
// (the process's own code, 128 + signal when a signal killed it).
import { ffi, waitExit } from "./process.ts";
import { SIGNALS } from "./signals.ts";
import { relayTerminal } from "./tty.ts";

/** What bunrunc passes on; SIGWINCH resizes the pty instead when bunrunc holds its master. */
export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

export interface ForegroundOptions {
  /** A pidfd of the process; closed here. */
  pidfd: number;
  /** The pty master, when bunrunc relays the terminal itself; closed here. */
  master?: number;
}

/** Resolves with the exit code once the process is gone (reaped: it must be our child). */
export async function foreground(o: ForegroundOptions): Promise<number> {
  const relay = o.master === undefined ? undefined : relayTerminal(o.master);
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const handler =
      name === "SIGWINCH" && relay
        ? () => relay.resize()
        : () => {
            try {
              ffi.pidfdSendSignal(o.pidfd, SIGNALS[name.slice(3)]!);
            } catch {}
          };
    process.on(name, handler);
    return [name, handler] as const;
  });
  try {
    const r = await waitExit(o.pidfd, true);
    return r === null ? 0 : r.signal ? 128 + r.signal : r.status;
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler);
    ffi.close(o.pidfd);
    await relay?.finish();
  }
}
