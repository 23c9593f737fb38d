//! Unit tests of the init's op dispatch (main.zig `run`): ops run in order with ctx.op_index
//! naming the one that failed, a kind this build does not know is refused, payloads shorter
//! than their fields stop the op before any system call, and WaitParent speaks the sync
//! protocol (docs/ARCHITECTURE.md) on a real socketpair. Only ops that touch nothing on the host
//! before they fail (or at all) are dispatched here: this runs in the test process.
const std = @import("std");
const linux = std.os.linux;
const plan = @import("plan");
const init = @import("main.zig");
const ctx = @import("ctx.zig");
const Builder = @import("../plan_test.zig").Builder;
const testing = std.testing;

/// A SOCK_SEQPACKET pair: [0] is the init's sync fd, [1] the runtime's end.
fn syncPair() ![2]i32 {
    var fds: [2]i32 = undefined;
    const rc = linux.socketpair(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC, 0, &fds);
    if (linux.E.init(rc) != .SUCCESS) return error.SocketPair;
    return fds;
}

fn closePair(fds: [2]i32) void {
    _ = linux.close(fds[0]);
    _ = linux.close(fds[1]);
    ctx.sync_fd = -1;
}

/// The next record on the runtime's end, or null when none is waiting.
fn recvMsg(fd: i32) ?plan.Msg {
    var msg: plan.Msg = undefined;
    const rc = linux.recvfrom(fd, std.mem.asBytes(&msg), @sizeOf(plan.Msg), linux.MSG.DONTWAIT, null, null);
    if (linux.E.init(rc) != .SUCCESS) return null;
    std.debug.assert(rc == @sizeOf(plan.Msg));
    return msg;
}

test "a plan with a bad header never runs an op" {
    var buf: [64]u8 = undefined;
    var b = Builder.init(&buf);
    _ = b.op(@intFromEnum(plan.Op.keep_fds)).int(u32, 3).int(u32, 9);
    const bytes = b.finish();
    bytes[0] ^= 1;
    ctx.keep = 0;
    try testing.expectError(error.BadPlan, init.run(bytes));
    try testing.expectEqual(@as(u32, 0), ctx.keep);
}

test "ops run in order; an unknown kind is refused and named by its index" {
    var buf: [128]u8 = undefined;
    var b = Builder.init(&buf);
    _ = b.op(@intFromEnum(plan.Op.keep_fds)).int(u32, 3).int(u32, 2);
    _ = b.op(@intFromEnum(plan.Op.keep_fds)).int(u32, 3).int(u32, 5);
    _ = b.op(999).int(u32, 0);
    _ = b.op(@intFromEnum(plan.Op.keep_fds)).int(u32, 3).int(u32, 7);
    ctx.keep = 0;
    try testing.expectError(error.BadPlan, init.run(b.finish()));
    // Both keep_fds ran (the second one last), the unknown op stopped the plan at index 2.
    try testing.expectEqual(@as(u32, 5), ctx.keep);
    try testing.expectEqual(@as(u32, 2), ctx.op_index);
}

test "an empty plan runs nothing (main then reports the missing exec step)" {
    var buf: [16]u8 = undefined;
    var b = Builder.init(&buf);
    ctx.op_index = 77;
    try init.run(b.finish());
    try testing.expectEqual(@as(u32, 77), ctx.op_index);
}

test "ops refuse payloads shorter than their fields, and out-of-range values, before acting" {
    var buf: [128]u8 = undefined;
    const Case = struct { kind: plan.Op, payload: []const u8, want: anyerror };
    const cases = [_]Case{
        .{ .kind = .wait_parent, .payload = "\x01\x00", .want = error.Truncated },
        .{ .kind = .hostname, .payload = "", .want = error.Truncated },
        .{ .kind = .hostname, .payload = "\x09\x00\x00\x00short\x00", .want = error.Truncated },
        .{ .kind = .domainname, .payload = "\x02\x00\x00\x00abc", .want = error.BadPlan },
        .{ .kind = .rlimit, .payload = "\x07\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00", .want = error.Truncated },
        .{ .kind = .setns_path, .payload = "\x00\x00\x00\x20", .want = error.Truncated },
        .{ .kind = .chdir, .payload = "", .want = error.Truncated },
        .{ .kind = .identity, .payload = "\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff", .want = error.BadPlan },
        .{ .kind = .personality, .payload = "\x08", .want = error.Truncated },
        .{ .kind = .keep_fds, .payload = "\x04\x00\x00\x00\x01\x00\x00\x00", .want = error.BadPlan },
        .{ .kind = .keep_fds, .payload = "\x03\x00\x00\x00\x01\x04\x00\x00", .want = error.BadPlan },
        .{ .kind = .sysctl, .payload = "\x05\x00\x00\x00a/../\x00\x01\x00\x00\x001\x00", .want = error.BadPlan },
        .{ .kind = .sysctl, .payload = "\x05\x00\x00\x00a..b.\x00\x01\x00\x00\x001\x00", .want = error.BadPlan },
    };
    for (cases, 0..) |case, i| {
        var b = Builder.init(&buf);
        _ = b.op(@intFromEnum(case.kind));
        b.raw(case.payload);
        const got = init.run(b.finish());
        testing.expectError(case.want, got) catch |e| {
            std.debug.print("case {d} ({s})\n", .{ i, @tagName(case.kind) });
            return e;
        };
        try testing.expectEqual(case.kind, ctx.op_kind);
    }
}

test "WaitParent sends its tag as a WAIT record and goes on after the ack byte" {
    const fds = try syncPair();
    defer closePair(fds);
    ctx.sync_fd = fds[0];
    // The runtime's ack is already queued, so the init's read does not block.
    _ = linux.write(fds[1], "\x00", 1);

    var buf: [128]u8 = undefined;
    var b = Builder.init(&buf);
    _ = b.op(@intFromEnum(plan.Op.keep_fds)).int(u32, 3).int(u32, 0);
    _ = b.op(@intFromEnum(plan.Op.wait_parent)).int(u32, 2);
    _ = b.op(1000);
    try testing.expectError(error.BadPlan, init.run(b.finish()));
    try testing.expectEqual(@as(u32, 2), ctx.op_index);

    const msg = recvMsg(fds[1]) orelse return error.NoRecord;
    try testing.expectEqual(plan.Msg.wait, msg.kind);
    try testing.expectEqual(@as(u32, 1), msg.op_index);
    try testing.expectEqual(@as(i32, 2), msg.pid);
    try testing.expectEqual(@as(u8, 0), msg.text[0]);
    // One record per WaitParent, nothing else.
    try testing.expect(recvMsg(fds[1]) == null);
}

test "a truncated WaitParent sends nothing and waits for nothing" {
    const fds = try syncPair();
    defer closePair(fds);
    ctx.sync_fd = fds[0];
    var buf: [64]u8 = undefined;
    var b = Builder.init(&buf);
    _ = b.op(@intFromEnum(plan.Op.wait_parent)).int(u16, 1);
    try testing.expectError(error.Truncated, init.run(b.finish()));
    try testing.expect(recvMsg(fds[1]) == null);
}
