// The one FFI boundary: every symbol of zig/lib.zig, typed, in one dlopen table.
// Nothing outside this file imports bun:ffi. BUNRUNC_FFI_TRACE=1 logs every call.
import { dlopen, FFIType } from "bun:ffi";
import libPath from "../zig-out/lib/libbunrunc.so" with { type: "file" };

const ABI_VERSION = 1;

const symbols = {
  bunrunc_abi_version: { args: [], returns: FFIType.u32 },
  bunrunc_init_size: { args: [], returns: FFIType.u32 },
} as const;

type Lib = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
let lib: Lib | undefined;

function load(): Lib {
  if (lib) return lib;
  const opened = dlopen(libPath, symbols).symbols;
  const abi = opened.bunrunc_abi_version();
  if (abi !== ABI_VERSION) throw new Error(`libbunrunc ABI ${abi} does not match bunrunc's ${ABI_VERSION}; rebuild`);
  lib = opened;
  return lib;
}

export function initSize(): number {
  return load().bunrunc_init_size();
}
