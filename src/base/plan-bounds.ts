// The plan's bounds, asserted by the init (zig/plan.zig) and by the encoder (src/plan/wire.ts).
// They live here, below both, because config/limits.ts refuses an input past them with its JSON
// path before a plan is ever built, and config sits below plan.

export const PLAN_BYTES_MAX = 4 * 1024 * 1024;
export const PLAN_OPS_MAX = 4096;
export const PLAN_STRING_BYTES_MAX = 4096;
