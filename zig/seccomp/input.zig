//! The compiler's input: a compact, already-validated description of linux.seccomp, written by
//! src/seccomp/encode.ts. Little-endian, no alignment, no padding.
//!
//!   header (36 bytes)
//!     magic u32 = 0x43535242 ("BRSC")   version u16 = 1   reserved u16 = 0
//!     total_len u32        the whole input, header included
//!     default_action u32   SECCOMP_RET_* | data, as the kernel wants it
//!     arch_mask u32        1 << Arch (tables.zig) for every architecture in the filter
//!     native_arch u32      an Arch in arch_mask; its section is checked first
//!     options u32          bit 0: runc's -ENOSYS stub (numbers above the profile's highest
//!                          known syscall of an arch return ENOSYS instead of the default)
//!     bad_arch_action u32  what an architecture outside the filter gets
//!     rule_count u32
//!   rule_count rules, each
//!     action u32           SECCOMP_RET_* | data
//!     name_len u8 (1..64)  arg_count u8 (0..6)   name bytes (no NUL)
//!     arg_count args, each 20 bytes:
//!       index u8 (0..5)  op u8 (1 NE, 2 LT, 3 LE, 4 EQ, 5 GE, 6 GT, 7 MASKED_EQ)  reserved u16
//!       value u64        value_two u64 (MASKED_EQ: value is the mask, value_two the datum)
//!
//! One rule is one syscall name: the TS side flattens `names` and splits a rule whose
//! conditions repeat an argument index into one rule per condition (as runc does).
const std = @import("std");
const tables = @import("tables.zig");

pub const magic: u32 = 0x43535242;
pub const version: u16 = 1;
pub const header_len: usize = 36;
pub const max_input_len: usize = 4 << 20;
pub const max_rules: u32 = 16384;
pub const max_name_len: u8 = 64;
pub const max_args: u8 = 6;
pub const arg_len: usize = 20;
pub const option_enosys_stub: u32 = 1 << 0;

/// libseccomp's enum scmp_compare values.
pub const Op = enum(u8) { ne = 1, lt = 2, le = 3, eq = 4, ge = 5, gt = 6, masked_eq = 7 };

pub const Arg = struct {
    index: u8,
    op: Op,
    value: u64,
    value_two: u64,
};

pub const Header = struct {
    default_action: u32,
    arch_mask: u32,
    native_arch: tables.Arch,
    options: u32,
    bad_arch_action: u32,
    rule_count: u32,
};

pub const Error = error{ BadInput, OutOfMemory };

fn u32At(b: []const u8, at: usize) u32 {
    return std.mem.readInt(u32, b[at..][0..4], .little);
}

/// The actions the kernel knows (include/uapi/linux/seccomp.h SECCOMP_RET_*), data masked off.
pub fn isAction(action: u32) bool {
    return switch (action & 0xffff_0000) {
        0x8000_0000, 0x0000_0000, 0x0003_0000, 0x0005_0000, 0x7fc0_0000, 0x7ff0_0000, 0x7ffc_0000, 0x7fff_0000 => true,
        else => false,
    };
}

pub const Input = struct {
    bytes: []const u8,
    header: Header,
    /// Byte offset of every rule in `bytes`.
    offsets: []u32,

    pub fn action(self: Input, rule: u32) u32 {
        return u32At(self.bytes, self.offsets[rule]);
    }

    pub fn name(self: Input, rule: u32) []const u8 {
        const at = self.offsets[rule];
        return self.bytes[at + 6 ..][0..self.bytes[at + 4]];
    }

    pub fn argCount(self: Input, rule: u32) u8 {
        return self.bytes[self.offsets[rule] + 5];
    }

    pub fn arg(self: Input, rule: u32, i: u8) Arg {
        std.debug.assert(i < self.argCount(rule));
        const at = self.offsets[rule] + 6 + self.bytes[self.offsets[rule] + 4] + @as(usize, i) * arg_len;
        const b = self.bytes[at..][0..arg_len];
        return .{
            .index = b[0],
            .op = @enumFromInt(b[1]),
            .value = std.mem.readInt(u64, b[4..12], .little),
            .value_two = std.mem.readInt(u64, b[12..20], .little),
        };
    }
};

/// Checks every field against its limit; `bad_rule` is set to the offending rule's index.
pub fn parse(bytes: []const u8, allocator: std.mem.Allocator, bad_rule: *u32) Error!Input {
    bad_rule.* = std.math.maxInt(u32);
    if (bytes.len < header_len or bytes.len > max_input_len) return error.BadInput;
    if (u32At(bytes, 0) != magic) return error.BadInput;
    if (std.mem.readInt(u16, bytes[4..6], .little) != version) return error.BadInput;
    if (u32At(bytes, 8) != bytes.len) return error.BadInput;
    const native = u32At(bytes, 20);
    const h = Header{
        .default_action = u32At(bytes, 12),
        .arch_mask = u32At(bytes, 16),
        .native_arch = if (native < tables.arch_count) @enumFromInt(native) else return error.BadInput,
        .options = u32At(bytes, 24),
        .bad_arch_action = u32At(bytes, 28),
        .rule_count = u32At(bytes, 32),
    };
    if (h.arch_mask == 0 or h.arch_mask >> tables.arch_count != 0) return error.BadInput;
    if (h.arch_mask & tables.archBit(h.native_arch) == 0) return error.BadInput;
    if (h.options & ~option_enosys_stub != 0) return error.BadInput;
    if (!isAction(h.default_action) or !isAction(h.bad_arch_action)) return error.BadInput;
    if (h.rule_count > max_rules) return error.BadInput;

    const offsets = try allocator.alloc(u32, h.rule_count);
    var at: usize = header_len;
    for (offsets, 0..) |*off, i| {
        bad_rule.* = @intCast(i);
        if (bytes.len - at < 6) return error.BadInput;
        off.* = @intCast(at);
        const name_len = bytes[at + 4];
        const args = bytes[at + 5];
        if (!isAction(u32At(bytes, at))) return error.BadInput;
        if (name_len == 0 or name_len > max_name_len or args > max_args) return error.BadInput;
        const len = 6 + @as(usize, name_len) + @as(usize, args) * arg_len;
        if (bytes.len - at < len) return error.BadInput;
        var a: usize = 0;
        while (a < args) : (a += 1) {
            const b = bytes[at + 6 + name_len + a * arg_len ..];
            if (b[0] >= max_args or b[1] < 1 or b[1] > 7 or b[2] != 0 or b[3] != 0) return error.BadInput;
        }
        at += len;
    }
    if (at != bytes.len) return error.BadInput;
    bad_rule.* = std.math.maxInt(u32);
    return .{ .bytes = bytes, .header = h, .offsets = offsets };
}
