// One call as the resident server holds it (src/server/serve.ts): its connection, request, the
// caller's stdio and what was put aside while it is parked; and how it ends (every fd it holds closed).
import { closeSync } from "node:fs";
import * as ffi from "../ffi.ts";
import type { LogHandle } from "../log.ts";
import type { Admitted } from "./admission.ts";
import type { Request } from "./proto.ts";

export interface Call {
  conn: number;
  req: Request;
  stdio: number[];
  who: Admitted;
  /** A handed-back run's second half, waiting for the process's exit code (the front's Status). */
  finish?: (code: number) => Promise<number>;
  /** That exit code, once the Status came. */
  status?: number;
  /** The caller's working directory, opened at the call's first take-on (a resumed call returns to it). */
  cwd?: number;
  /** Parked: the environment and log settings it had (hooks.ts setHookPark). */
  env?: NodeJS.ProcessEnv;
  log?: LogHandle;
  /** takeOnCaller put a kept log back: the call does not open --log again. */
  logAttached?: boolean;
}

/** A parked call's log file, closed: its caller is gone, the call finishes in the server's context. */
export function dropLog(call: Call): void {
  if (call.log?.fd !== undefined) ffi.close(call.log.fd);
  call.log = undefined;
}

export function finish(call: Call): void {
  dropLog(call);
  if (call.cwd !== undefined) closeSync(call.cwd);
  call.stdio.forEach((fd) => ffi.close(fd));
  ffi.close(call.who.pidfd);
  ffi.close(call.conn);
}

export function replaceEnv(env: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);
}
