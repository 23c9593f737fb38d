import { initSize } from "./ffi.ts";
console.log("init", initSize());
