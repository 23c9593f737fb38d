// The parent's side of the init's sync protocol (docs/ARCHITECTURE.md "Sync protocol"), one for
// create and exec: spawn the init (its kill-and-reap goes on the verb's undo list at once), walk
// its stops (each verb answers its own WAIT tags), and turn an ERROR record into the one line
// the user sees, naming the plan step that failed.
import { strerror } from "../base/errno.ts";
import { BunruncError } from "../base/errors.ts";
import * as ffi from "../ffi.ts";
import type { SyncMsg } from "../ffi.ts";
import type { Spawner, SpawnRequest } from "./spawner.ts";

/** Record kinds from the init (zig/plan.zig `Msg`). */
export const MSG = { WAIT: 1, CREATED: 2, ERROR: 3, FORKED: 4 } as const;

/** How the verb words its failures: create's and exec's differ (runc's texts, which clients match). */
export interface Voice {
  /** The message prefix: "create", "exec failed". */
  prefix: string;
  /** What the init is called in a message. */
  init: string;
  /** What the parent was doing while it waited for a record. */
  waiting: string;
  /** A plan step the plan does not describe (an op index past its descriptions). */
  unknownStep(opIndex: number): string;
}

export const CREATE_VOICE: Voice = {
  prefix: "create",
  init: "the container's init",
  waiting: "waiting for the container's init",
  unknownStep: (i) => `step ${i}`,
};

export const EXEC_VOICE: Voice = {
  prefix: "exec failed",
  init: "the init",
  waiting: "waiting for the process to start",
  unknownStep: () => "start the init",
};

export interface InitChild {
  pid: number;
  pidfd: number;
  syncFd: number;
}

/**
 * Clones the init through `spawner`. Its sync fd goes on `fds` (closed by the verb when done) and
 * its kill-and-reap on `undo` (run, newest first, when the verb fails).
 */
export function spawnInit(
  spawner: Spawner,
  req: SpawnRequest,
  fds: number[],
  undo: (() => void | Promise<void>)[],
  spawn: (req: SpawnRequest) => InitChild = (r) => spawner.spawn(r),
): InitChild {
  const child = spawn(req);
  fds.push(child.syncFd);
  undo.push(() => killAndReap(spawner, child.pidfd));
  return child;
}

/** SIGKILL through the pidfd, wait for the exit (reaping our child), close the pidfd. */
export function killAndReap(spawner: Spawner, pidfd: number): void {
  try {
    ffi.pidfdSendSignal(pidfd, 9);
  } catch {} // exited already
  spawner.waitExited(pidfd);
  ffi.close(pidfd);
}

/** The one line for an ERROR record: `<prefix>: <plan step>: <detail>: <strerror>`. */
export function initFailure(voice: Voice, plan: { descriptions: string[] }, msg: Pick<SyncMsg, "opIndex" | "errno" | "text">): string {
  const step = plan.descriptions[msg.opIndex] ?? voice.unknownStep(msg.opIndex);
  const parts = [step, msg.text, msg.errno ? strerror(msg.errno) : ""].filter(Boolean);
  return `${voice.prefix}: ${parts.join(": ")}`;
}

/** What a verb does at each record of the walk. */
export interface Stops {
  /**
   * A WAIT stop with its tag: do the parent's step. true: answer it now (go on); false: the verb
   * answers later itself (exec's Forked stop, once FORKED came too). Unknown tags: throw unknownTag().
   */
  wait(tag: number): boolean | Promise<boolean>;
  /** FORKED: the pid of the process the init forked (into the container's pid namespace). */
  forked?(pid: number): void;
  /** CREATED ends the walk (create). Without it, the init's exec closing the socket ends it (exec). */
  created?(msg: SyncMsg): void;
}

/** The error for a WAIT tag the verb does not know. */
export function unknownTag(voice: Voice, tag: number): BunruncError {
  return new BunruncError("system", `${voice.prefix}: ${voice.init} waited with an unknown tag ${tag}`);
}

/**
 * Answers the init's records until CREATED (create) or until its exec closes the socket (exec);
 * an ERROR record becomes the one-line failure. `timeoutMs` < 0 waits without limit.
 */
export async function walkInit(voice: Voice, child: InitChild, plan: { descriptions: string[] }, stops: Stops, timeoutMs: number): Promise<void> {
  for (;;) {
    let msg: SyncMsg | null;
    try {
      msg = ffi.syncRecvOrClosed(child.syncFd, timeoutMs);
      if (!msg && stops.created) throw new Error("the init exited without reporting");
    } catch (e) {
      throw new BunruncError("system", `${voice.prefix}: ${voice.waiting}: ${(e as Error).message}`);
    }
    if (!msg) return;
    switch (msg.kind) {
      case MSG.WAIT:
        if (await stops.wait(msg.pid)) ffi.syncSend(child.syncFd, 0);
        break;
      case MSG.FORKED:
        stops.forked?.(msg.pid);
        break;
      case MSG.ERROR:
        throw new BunruncError("system", initFailure(voice, plan, msg));
      default:
        if (msg.kind === MSG.CREATED && stops.created) {
          stops.created(msg);
          return;
        }
        throw new BunruncError("system", `${voice.prefix}: unexpected message ${msg.kind} from ${voice.init}`);
    }
  }
}
