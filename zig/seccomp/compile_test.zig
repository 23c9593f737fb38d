//! The compiler end to end on small inputs built here in input.zig's format.
const std = @import("std");
const compile = @import("compile.zig");
const emit = @import("emit.zig");
const input = @import("input.zig");
const analyze = @import("analyze.zig");

const ALLOW: u32 = 0x7fff_0000;
const EPERM: u32 = 0x0005_0001;
const KILL_THREAD: u32 = 0;

const TestArg = struct { index: u8, op: input.Op, value: u64, value_two: u64 = 0 };
const TestRule = struct { name: []const u8, action: u32, args: []const TestArg = &.{} };

fn build(buf: []u8, default: u32, arch_mask: u32, rules: []const TestRule) []u8 {
    var w = std.io.fixedBufferStream(buf);
    const out = w.writer();
    out.writeInt(u32, input.magic, .little) catch unreachable;
    out.writeInt(u16, input.version, .little) catch unreachable;
    out.writeInt(u16, 0, .little) catch unreachable;
    out.writeInt(u32, 0, .little) catch unreachable; // total_len, patched below
    for ([_]u32{ default, arch_mask, 0, input.option_enosys_stub, KILL_THREAD, @intCast(rules.len) }) |v| out.writeInt(u32, v, .little) catch unreachable;
    for (rules) |r| {
        out.writeInt(u32, r.action, .little) catch unreachable;
        out.writeByte(@intCast(r.name.len)) catch unreachable;
        out.writeByte(@intCast(r.args.len)) catch unreachable;
        out.writeAll(r.name) catch unreachable;
        for (r.args) |a| {
            out.writeAll(&.{ a.index, @intFromEnum(a.op), 0, 0 }) catch unreachable;
            out.writeInt(u64, a.value, .little) catch unreachable;
            out.writeInt(u64, a.value_two, .little) catch unreachable;
        }
    }
    const len = w.pos;
    std.mem.writeInt(u32, buf[8..12], @intCast(len), .little);
    return buf[0..len];
}

var scratch: [256 * 1024]u8 = undefined;
var program: [emit.max_insns]emit.Insn = undefined;
var report: compile.Report = undefined;

test "a small profile compiles to a well-formed program and reports its paths" {
    var buf: [4096]u8 = undefined;
    const bytes = build(&buf, EPERM, 0b111, &.{
        .{ .name = "read", .action = ALLOW },
        .{ .name = "write", .action = ALLOW },
        .{ .name = "personality", .action = ALLOW, .args = &.{.{ .index = 0, .op = .eq, .value = 8 }} },
        .{ .name = "no_such_syscall", .action = ALLOW },
    });
    const prog = try compile.compile(bytes, &program, &scratch, &report);
    try std.testing.expect(analyze.wellFormed(prog));
    try std.testing.expectEqual(@as(u32, @intCast(prog.len)), report.insn_count);
    try std.testing.expectEqual(@as(u32, 1), report.unknown_count);
    try std.testing.expectEqual(@as(u32, 3), report.unknown[0]);
    try std.testing.expect(report.plain_longest_path > 3 and report.plain_longest_path < report.longest_path);
}

test "bad input names the rule" {
    var buf: [4096]u8 = undefined;
    const bytes = build(&buf, EPERM, 0b1, &.{
        .{ .name = "read", .action = ALLOW },
        .{ .name = "read", .action = ALLOW, .args = &.{.{ .index = 6, .op = .eq, .value = 8 }} },
    });
    try std.testing.expectError(error.BadInput, compile.compile(bytes, &program, &scratch, &report));
    try std.testing.expectEqual(@as(u32, 1), report.error_rule);
}

test "a profile too big for BPF_MAXINSNS is refused, not truncated" {
    var buf: [64 * 1024]u8 = undefined;
    var rules: [700]TestRule = undefined;
    const args = [_]TestArg{ .{ .index = 0, .op = .gt, .value = 1 << 40 }, .{ .index = 1, .op = .lt, .value = 1 << 33 } };
    for (&rules) |*r| r.* = .{ .name = "ioctl", .action = ALLOW, .args = &args };
    const bytes = build(&buf, EPERM, 0b1, &rules);
    try std.testing.expectError(error.ProgramTooLarge, compile.compile(bytes, &program, &scratch, &report));
}
