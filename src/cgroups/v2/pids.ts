// v2 pids: the same pids.max and pids.current files as v1.
export { pids } from "../v1/pids.ts";
