//! Every symbol bunrunc's TypeScript side calls through bun:ffi (see src/ffi.ts).
const std = @import("std");
const init_elf = @embedFile("init_elf");

pub const abi_version: u32 = 1;

export fn bunrunc_abi_version() u32 {
    return abi_version;
}

export fn bunrunc_init_size() u32 {
    return @intCast(init_elf.len);
}
