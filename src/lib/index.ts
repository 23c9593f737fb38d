// bunrunc's public library API: what the CLI verbs call, and what a Bun script can call to drive
// containers without the CLI. Every function takes the state root explicitly (`root`; the CLI's
// --root, default defaultRoot()) and throws BunruncError with a one-line message.
export { BunruncError, type ErrorCode } from "../base/errors.ts";
export { create, type CreateOptions } from "./create.ts";
export { start, type StartOptions } from "./start.ts";
export { state, list, type StateJson } from "./query.ts";
export { kill, type KillOptions } from "./kill.ts";
export { del as delete, del, type DeleteOptions } from "./delete.ts";
export { run, type RunOptions } from "./run.ts";
export { exec, type ExecOptions } from "./exec.ts";
export { update, readResourcesFile, resourcesFromFlags, type UpdateOptions, type UpdateFlags } from "./update.ts";
export { pause, type PauseOptions } from "./pause.ts";
export { resume, type ResumeOptions } from "./resume.ts";
export { ps, psTable, type PsOptions } from "./ps.ts";
export { events, eventLine, type EventsOptions, type ContainerEvent } from "./events.ts";
export { checkpoint, type CheckpointOptions } from "./checkpoint.ts";
export { restore, type RestoreOptions } from "./restore.ts";
export type { Resources, Spec } from "../config/types.ts";
export { defaultRoot, type ContainerState, type Status } from "./container.ts";
export { parseSignal } from "./signals.ts";
export { defaultSpec, writeSpec, type SpecOptions } from "./spec.ts";
export { compilePlan, type CompileOptions, type Plan } from "../plan/compile.ts";
