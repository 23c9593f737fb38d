//! Syscall name -> number, per architecture, built at compile time.
//!
//! Source: Zig's `std.os.linux.syscalls` enums (lib/std/os/linux/syscalls.zig). Zig generates that
//! file with tools/generate_linux_syscalls.zig straight from the kernel's own tables:
//!   x86_64  arch/x86/entry/syscalls/syscall_64.tbl ("common" + "64" rows)   -> X64
//!   x32     the same table, "common" + "x32" rows                           -> X32
//!   x86     arch/x86/entry/syscalls/syscall_32.tbl                          -> X86
//!   arm     arch/arm/tools/syscall.tbl (EABI) + the __ARM_NR_* private calls -> Arm
//!   aarch64 include/uapi/asm-generic/unistd.h via arch/arm64's unistd.h     -> Arm64
//! The generator renames a few entries (it drops leading underscores, and for the unistd.h
//! archs it names an entry after its sys_* function). Profiles use the kernel's __NR_* names,
//! as libseccomp does, so `to_kernel_name` below maps those renames back.
const std = @import("std");
const sc = std.os.linux.syscalls;

/// The architectures with real tables. The numeric values are the wire ids
/// (src/seccomp/encode.ts `ARCH_ID`).
pub const Arch = enum(u8) {
    x86_64 = 0,
    x86 = 1,
    x32 = 2,
    aarch64 = 3,
    arm = 4,
};
pub const arch_count = @typeInfo(Arch).@"enum".fields.len;

/// x32 syscalls are the x86_64 ABI's numbers with bit 30 set (arch/x86/include/uapi/asm/unistd.h).
pub const x32_syscall_bit: u32 = 0x4000_0000;

/// AUDIT_ARCH_* as seccomp_data.arch reports it (include/uapi/linux/audit.h: EM_* | 64BIT | LE).
/// x86_64 and x32 share one value. (Zig 0.14.1's std.os.linux.AUDIT.ARCH does not compile.)
pub fn auditArch(arch: Arch) u32 {
    const bit64: u32 = 0x8000_0000;
    const le: u32 = 0x4000_0000;
    return switch (arch) {
        .x86_64, .x32 => 62 | bit64 | le, // EM_X86_64
        .x86 => 3 | le, // EM_386
        .aarch64 => 183 | bit64 | le, // EM_AARCH64
        .arm => 40 | le, // EM_ARM
    };
}

pub fn archBit(arch: Arch) u32 {
    return @as(u32, 1) << @as(u5, @intCast(@intFromEnum(arch)));
}

/// libseccomp compares only the low 32 bits of arguments on these (ARCH_SIZE_32, x32 included).
pub fn argsAre32Bit(arch: Arch) bool {
    return switch (arch) {
        .x86, .x32, .arm => true,
        .x86_64, .aarch64 => false,
    };
}

const Entry = struct { name: []const u8, nr: u32 };

const Rename = struct { zig: []const u8, kernel: []const u8 };

/// Zig's name -> the kernel's (and libseccomp's) name, per arch.
fn renames(comptime arch: Arch) []const Rename {
    const underscored = [_]Rename{
        .{ .zig = "llseek", .kernel = "_llseek" },
        .{ .zig = "newselect", .kernel = "_newselect" },
        .{ .zig = "sysctl", .kernel = "_sysctl" },
    };
    return &(underscored ++ switch (arch) {
        .x86 => [_]Rename{},
        .x86_64, .x32 => [_]Rename{.{ .zig = "fstatat64", .kernel = "newfstatat" }},
        .aarch64 => [_]Rename{
            .{ .zig = "fstatat64", .kernel = "newfstatat" },
            .{ .zig = "fstat64", .kernel = "fstat" },
            .{ .zig = "sendfile64", .kernel = "sendfile" },
            .{ .zig = "fadvise64_64", .kernel = "fadvise64" },
        },
        .arm => [_]Rename{
            .{ .zig = "fadvise64_64", .kernel = "arm_fadvise64_64" },
            .{ .zig = "sync_file_range", .kernel = "arm_sync_file_range" },
        },
    });
}

/// Extra names for an existing number (libseccomp knows arm's 341 by both names).
fn aliases(comptime arch: Arch) []const Entry {
    return switch (arch) {
        .arm => &[_]Entry{.{ .name = "sync_file_range2", .nr = @intFromEnum(sc.Arm.sync_file_range) }},
        else => &[_]Entry{},
    };
}

fn SourceEnum(comptime arch: Arch) type {
    return switch (arch) {
        .x86_64 => sc.X64,
        .x86 => sc.X86,
        .x32 => sc.X32,
        .aarch64 => sc.Arm64,
        .arm => sc.Arm,
    };
}

fn toKernelName(comptime arch: Arch, comptime zig_name: []const u8) []const u8 {
    for (renames(arch)) |r| {
        if (std.mem.eql(u8, r.zig, zig_name)) return r.kernel;
    }
    return zig_name;
}

fn lessByName(_: void, a: Entry, b: Entry) bool {
    return std.mem.order(u8, a.name, b.name) == .lt;
}

fn buildTable(comptime arch: Arch) []const Entry {
    @setEvalBranchQuota(400_000);
    const fields = @typeInfo(SourceEnum(arch)).@"enum".fields;
    const extra = aliases(arch);
    var entries: [fields.len + extra.len]Entry = undefined;
    for (fields, 0..) |f, i| {
        var nr: u32 = @intCast(f.value);
        if (arch == .x32) nr |= x32_syscall_bit;
        entries[i] = .{ .name = toKernelName(arch, f.name), .nr = nr };
    }
    for (extra, 0..) |e, i| entries[fields.len + i] = e;
    std.sort.pdq(Entry, &entries, {}, lessByName);
    for (entries[1..], 0..) |e, i| {
        if (std.mem.eql(u8, e.name, entries[i].name)) @compileError("duplicate syscall name " ++ e.name);
    }
    const final = entries;
    return &final;
}

const tables = blk: {
    var t: [arch_count][]const Entry = undefined;
    for (@typeInfo(Arch).@"enum".fields) |f| t[f.value] = buildTable(@enumFromInt(f.value));
    break :blk t;
};

/// The syscall number of `name` on `arch` (x32: with the x32 bit), or null when that arch has
/// no syscall of that name. Binary search over the sorted table.
pub fn lookup(arch: Arch, name: []const u8) ?u32 {
    const table = tables[@intFromEnum(arch)];
    var lo: usize = 0;
    var hi: usize = table.len;
    while (lo < hi) {
        const mid = lo + (hi - lo) / 2;
        switch (std.mem.order(u8, table[mid].name, name)) {
            .eq => return table[mid].nr,
            .lt => lo = mid + 1,
            .gt => hi = mid,
        }
    }
    return null;
}

pub fn tableLen(arch: Arch) usize {
    return tables[@intFromEnum(arch)].len;
}

test "tables carry the kernel's names and numbers" {
    const t = std.testing;
    try t.expectEqual(@as(?u32, 0), lookup(.x86_64, "read"));
    try t.expectEqual(@as(?u32, 272), lookup(.x86_64, "unshare"));
    try t.expectEqual(@as(?u32, 262), lookup(.x86_64, "newfstatat"));
    try t.expectEqual(@as(?u32, null), lookup(.x86_64, "fstatat64"));
    try t.expectEqual(@as(?u32, 140), lookup(.x86, "_llseek"));
    try t.expectEqual(@as(?u32, 310), lookup(.x86, "unshare"));
    try t.expectEqual(@as(?u32, null), lookup(.x86, "newfstatat"));
    try t.expectEqual(@as(?u32, x32_syscall_bit | 512), lookup(.x32, "rt_sigaction"));
    try t.expectEqual(@as(?u32, x32_syscall_bit | 272), lookup(.x32, "unshare"));
    try t.expectEqual(@as(?u32, 97), lookup(.aarch64, "unshare"));
    try t.expectEqual(@as(?u32, 80), lookup(.aarch64, "fstat"));
    try t.expectEqual(@as(?u32, 79), lookup(.aarch64, "newfstatat"));
    try t.expectEqual(@as(?u32, 71), lookup(.aarch64, "sendfile"));
    try t.expectEqual(@as(?u32, 39), lookup(.aarch64, "umount2"));
    try t.expectEqual(@as(?u32, null), lookup(.aarch64, "open"));
    try t.expectEqual(@as(?u32, 0x0f0005), lookup(.arm, "set_tls"));
    try t.expectEqual(@as(?u32, 341), lookup(.arm, "sync_file_range2"));
    try t.expectEqual(@as(?u32, 341), lookup(.arm, "arm_sync_file_range"));
    try t.expectEqual(@as(?u32, null), lookup(.x86_64, "no_such_call"));
    try t.expect(tableLen(.x86_64) > 350);
    try t.expectEqual(@as(u32, 0xc000003e), auditArch(.x32));
    try t.expectEqual(@as(u32, 0x40000003), auditArch(.x86));
    try t.expectEqual(@as(u32, 0xc00000b7), auditArch(.aarch64));
    try t.expectEqual(@as(u32, 0x40000028), auditArch(.arm));
}
