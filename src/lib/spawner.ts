// Who clones a container's processes and where a foreground wait happens: the library verbs that
// spawn (create, run, exec) take a Spawner. In the CLI and in a Bun script it is this process
// (`thisProcess`). In the resident server (src/server/serve.ts) it is the front (zig/front.zig)
// that asked: the container's processes must still be its children, as they would be runc's (a
// subreaper caller — containerd's shim, conmon — reaps them), and a foreground wait happens there
// too, so run and exec hand a Handback to their caller instead of waiting.
import { readFileSync } from "node:fs";
import * as ffi from "../ffi.ts";

export interface SpawnRequest extends ffi.SpawnRequest {
  /** A foreground run/exec: the process (or its grandchild after a pid-namespace fork) must come back to the spawner as subreaper. */
  subreaper?: boolean;
  /** A foreground run/exec: signals for the process are held from before it exists. */
  holdSignals?: boolean;
}

export interface Spawner {
  /** The calling process (LISTEN_PID is compared with it). */
  pid: number;
  /** Its /proc/PID/cgroup (a relative cgroupsPath is resolved under it). */
  cgroups(): string;
  /** Clones the container's init in the calling process. */
  spawn(req: SpawnRequest): ffi.Spawned;
  /** Returns once a process spawn() made has exited, reaping it when it is this process's child. */
  waitExited(pidfd: number): void;
  /** The calling process waits for a foreground process itself: run and exec return a Handback. */
  waitsInCaller?: boolean;
  /** What --debug's first line says about who ran the call (the server). */
  servedBy?: string;
}

/**
 * A foreground run or exec whose process the spawner's caller waits for (forwarding signals);
 * `finish`, when given, finishes the verb with the process's exit code (run deletes the container).
 */
export interface Handback {
  waitFor: number;
  finish?: (code: number) => Promise<number>;
}

export function isHandback(v: unknown): v is Handback {
  return typeof v === "object" && v !== null && "waitFor" in v;
}

const POLLIN = 1;
/** A killed process is gone in microseconds; one stuck in the kernel is not waited for forever. */
const EXIT_WAIT_MS = 10_000;

/** Waits (bounded) for a process that is not ours to reap to exit. */
export function waitUnreaped(pidfd: number): void {
  try {
    ffi.pollFd(pidfd, POLLIN, EXIT_WAIT_MS);
  } catch {}
}

export const thisProcess: Spawner = {
  pid: process.pid,
  cgroups: () => readFileSync("/proc/self/cgroup", "utf8"),
  spawn: (req) => {
    if (req.subreaper) ffi.setChildSubreaper();
    return ffi.spawn(req);
  },
  waitExited: (pidfd) => {
    try {
      ffi.waitPidfd(pidfd, false);
    } catch {
      // Not our child (a forked process before its reparenting): its reaper collects it.
      waitUnreaped(pidfd);
    }
  },
};
