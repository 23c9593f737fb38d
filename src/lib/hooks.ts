// OCI hooks run by the runtime, in the runtime's namespaces: prestart (deprecated), createRuntime
// and createContainer at the init's WaitParent(hooks) stop, poststart after start, poststop on
// delete. startContainer hooks run inside the container (src/plan/compile.ts). Each hook gets the
// state JSON on stdin, exactly its own env, args[0] as argv0, and SIGKILL when its timeout expires.
import { BunruncError } from "../base/errors.ts";
import type { SpecHook, SpecHooks } from "../config/types.ts";

export type HookKind = keyof SpecHooks;

const STDERR_SHOWN_MAX = 200;

async function runOne(kind: HookKind, index: number, hook: SpecHook, stdin: string): Promise<void> {
  const args = hook.args?.length ? hook.args : [hook.path];
  const timeoutMs = hook.timeout === undefined ? 0 : Number(hook.timeout) * 1000;
  const what = `error running ${kind} hook #${index} (${hook.path})`;
  let proc;
  try {
    proc = Bun.spawn({
      cmd: [hook.path, ...args.slice(1)],
      argv0: args[0],
      env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf("=") >>> 0), e.slice(e.indexOf("=") + 1)])),
      stdin: new TextEncoder().encode(stdin),
      stdout: "ignore",
      stderr: "pipe",
      ...(timeoutMs > 0 ? { timeout: timeoutMs, killSignal: "SIGKILL" as const } : {}),
    });
  } catch (e) {
    throw new BunruncError("system", `${what}: ${(e as Error).message}`);
  }
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code === 0) return;
  const detail = stderr.trim().split("\n").at(-1)?.slice(0, STDERR_SHOWN_MAX);
  const why = proc.signalCode === "SIGKILL" && timeoutMs > 0 ? `timed out after ${hook.timeout}s` : proc.signalCode ? `killed by ${proc.signalCode}` : `exit status ${code}`;
  throw new BunruncError("system", `${what}: ${why}${detail ? `, stderr: ${detail}` : ""}`);
}

/** Runs `hooks` in order; the first failure throws (create-time hooks: create fails and cleans up). */
export async function runHooks(kind: HookKind, hooks: readonly SpecHook[] | undefined, state: object): Promise<void> {
  if (!hooks?.length) return;
  const stdin = JSON.stringify(state);
  for (let i = 0; i < hooks.length; i++) await runOne(kind, i, hooks[i]!, stdin);
}

/**
 * Runs every hook even when some fail, returning the failures as warnings: poststart and
 * poststop failures must not change the lifecycle (runtime-spec "Lifecycle", steps 10 and 13).
 */
export async function runHooksWarn(kind: HookKind, hooks: readonly SpecHook[] | undefined, state: object): Promise<string[]> {
  if (!hooks?.length) return [];
  const stdin = JSON.stringify(state);
  const warnings: string[] = [];
  for (let i = 0; i < hooks.length; i++) {
    try {
      await runOne(kind, i, hooks[i]!, stdin);
    } catch (e) {
      warnings.push((e as Error).message);
    }
  }
  return warnings;
}
