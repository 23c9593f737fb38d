// What the resident server decides about a call when its turn comes, before it sends Begin: past
// Begin the front has committed its stdio to the server and a call that has started cannot be
// handed back, so whatever would make the server hold the call, or the call hold every other
// caller, sends it back now (Fallback: the front runs it directly). Admission (admission.ts) has
// already judged the caller and the call's own files; this reads what changes between admission and
// the call's turn: the container's state, and how many calls the server already holds.
import { join, resolve } from "node:path";
import { parseArgv, parseGlobals } from "../cli/parse.ts";
import { defaultRoot, readStateFile } from "../state/store.ts";
import type { ContainerState } from "../lib/container.ts";
import type { SpecHooks } from "../config/types.ts";
import { readJson } from "./admission.ts";

/**
 * Calls parked at a hook at most (serve.ts parks a call while its hook runs). Each holds ~24 fds in
 * the server (measured by test/server/held-calls: its connection, the caller's stdio, cwd, pidfd
 * and log, the hook's pidfd, stdin and stderr and Bun's own for the subprocess, the container's
 * sync socket, init pidfd and cgroup dirs): 16 take ~390 of the 1024 a default open-files soft
 * limit allows (the server keeps its starter's, ~70 of them its own), leaving room for the
 * running call, PENDING_MAX pending connections and WAITING_MAX waiting runs. Past it a call that
 * could park runs directly — slower, never refused.
 */
export const PARKED_MAX = 16;

/**
 * Foreground runs whose front waits for the container's process at most (each holds its
 * connection, the caller's stdio, cwd, pidfd and log: ~8 fds; 16 take ~130, counted in the budget
 * above). Past it a foreground run runs directly.
 */
export const WAITING_MAX = 16;

/** The verbs that act on an existing container the server serves (state only reads it). */
const ON_CONTAINER = new Set(["start", "delete", "kill", "exec"]);

/**
 * Whether the call goes back to its front instead of being begun: (1) its container is kept by
 * systemd (the driver would wait on systemd in the server; a call typed without --systemd-cgroup
 * reaches here), (2) the server holds PARKED_MAX parked calls and this one could park at a hook,
 * (3) it holds WAITING_MAX waiting runs and this one is a foreground run. Paths resolve in the
 * caller's working directory `cwd` (/proc/PID/cwd) and its environment `env`.
 */
export function runsDirectly(argv: string[], cwd: string, env: Record<string, string>, held: { parkedFull: boolean; waitingFull: boolean }): boolean {
  let inv;
  try {
    inv = parseArgv(argv);
  } catch {
    return true; // admitted, it parsed then: the direct path reports whatever changed
  }
  if (inv.kind !== "verb") return true;
  const { verb, flags } = inv;
  if (verb === "run" || verb === "create") {
    if (verb === "run" && !flags.detach && held.waitingFull) return true;
    if (!held.parkedFull && verb === "create") return false;
    const config = readJson(join(resolve(cwd, (flags.bundle as string) || "."), "config.json")) as { hooks?: SpecHooks } | null;
    if (verb === "run" && config !== null && waitsForExec(config.hooks)) return true;
    if (!held.parkedFull) return false;
    return config === null || hasHooks(config.hooks);
  }
  if (!ON_CONTAINER.has(verb)) return false;
  const state = stateOf(argv, cwd, env, inv.args[0]!);
  if (!state) return false; // no container (or untrusted state): the call says so, holding no one
  if (state.bunrunc?.systemdUnit) return true;
  if (verb === "start" && waitsForExec(state.bunrunc?.hooks)) return true;
  return held.parkedFull && (verb === "start" || verb === "delete") && hasHooks(state.bunrunc?.hooks);
}

/** The container's state.json as the call would read it (store.ts: trusted, a regular file, bounded); null if none. */
function stateOf(argv: string[], cwd: string, env: Record<string, string>, id: string): ContainerState | null {
  try {
    const raw = parseGlobals(argv).values.root;
    const root = raw ? resolve(cwd, raw) : defaultRoot(env);
    return readStateFile<ContainerState>(root, id);
  } catch {
    return null;
  }
}

/**
 * start waits for the process's exec before its poststart hooks (src/lib/start.ts), and a
 * startContainer hook runs in the init before that exec, as long as its timeout allows: such a
 * start never waits in the server, where it would hold every other caller.
 */
function waitsForExec(hooks: SpecHooks | undefined): boolean {
  return !!hooks?.poststart?.length && !!hooks.startContainer?.length;
}

function hasHooks(hooks: SpecHooks | undefined): boolean {
  return Object.values(hooks ?? {}).some((list) => Array.isArray(list) && list.length > 0);
}
