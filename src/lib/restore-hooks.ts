// The hooks runc runs on restore (prestart, then createRuntime) run where runc runs them: when
// CRIU has made the restored tree's namespaces and before any of its tasks resumes. CRIU calls an
// action script at each step; ours (`setup-namespaces` only) writes the restored init's pid to a
// fifo and waits for one answer line on another, while bunrunc runs the hooks.
import { chmodSync, closeSync, constants, openSync, readSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { SpecHooks } from "../config/types.ts";
import { hookState, type ContainerState } from "./container.ts";
import { runHooks } from "./hooks.ts";
import * as ffi from "../ffi.ts";

const SCRIPT = `#!/bin/sh
[ "$CRTOOLS_SCRIPT_ACTION" = setup-namespaces ] || exit 0
echo "$CRTOOLS_INIT_PID" > "$BUNRUNC_HOOK_REQUEST"
read -r answer < "$BUNRUNC_HOOK_ANSWER"
[ "$answer" = ok ]
`;
const POLLIN = 1;
const POLL_MS = 5;

export interface RestoreHooks {
  /** criu's extra arguments and environment. */
  args: string[];
  env: Record<string, string>;
  /** Answers the script once (hooks run with `state` and the pid it names); resolves when done or when `until` settles. */
  serve(state: ContainerState, until: Promise<unknown>): Promise<string | undefined>;
  close(): void;
}

export function hasRestoreHooks(hooks: SpecHooks | undefined): boolean {
  return Boolean(hooks?.prestart?.length || hooks?.createRuntime?.length);
}

/** The action script and its two fifos under `dir` (the container's state directory). */
export function restoreHooks(dir: string, hooks: SpecHooks): RestoreHooks {
  const script = join(dir, "criu-action.sh");
  const request = join(dir, "hook-request");
  const answer = join(dir, "hook-answer");
  writeFileSync(script, SCRIPT, { mode: 0o700 });
  chmodSync(script, 0o700);
  ffi.mkfifo(request, 0o600);
  ffi.mkfifo(answer, 0o600);
  // Both ends held from the start: the answer is never lost to a reader that opens late.
  const requestFd = openSync(request, constants.O_RDWR | constants.O_NONBLOCK);
  const answerFd = openSync(answer, constants.O_RDWR);
  let settled = false;
  return {
    args: ["--action-script", script],
    env: { BUNRUNC_HOOK_REQUEST: request, BUNRUNC_HOOK_ANSWER: answer },
    async serve(state, until) {
      void until.then(() => (settled = true), () => (settled = true));
      while (!settled) {
        if (ffi.pollFd(requestFd, POLLIN, 0) > 0) break;
        await Bun.sleep(POLL_MS);
      }
      if (settled) return undefined;
      const buf = Buffer.alloc(64);
      const n = readSync(requestFd, buf);
      const pid = Number(buf.subarray(0, n).toString().trim());
      const s = hookState({ ...state, pid }, "creating");
      try {
        await runHooks("prestart", hooks.prestart, s);
        await runHooks("createRuntime", hooks.createRuntime, s);
      } catch (e) {
        writeSync(answerFd, "fail\n");
        return (e as Error).message;
      }
      writeSync(answerFd, "ok\n");
      return undefined;
    },
    close() {
      closeSync(requestFd);
      closeSync(answerFd);
    },
  };
}
