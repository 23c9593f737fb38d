//! Unit tests of the front <-> server wire (ipc.zig) on real SOCK_SEQPACKET pairs: a record and
//! its fds arrive whole; a record longer than the buffer, or carrying more fds than the reader
//! takes, is -EMSGSIZE with every received fd closed (none leak into the front, where the
//! container would inherit them); and what arrives is checked by front_records.zig.
const std = @import("std");
const linux = std.os.linux;
const ipc = @import("ipc.zig");
const proto = @import("proto.zig");
const records = @import("front_records.zig");
const testing = std.testing;

fn pair() ![2]i32 {
    var fds: [2]i32 = undefined;
    const rc = linux.socketpair(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC, 0, &fds);
    if (linux.E.init(rc) != .SUCCESS) return error.SocketPair;
    return fds;
}

fn closeAll(fds: []const i32) void {
    for (fds) |f| _ = linux.close(f);
}

/// How many fds this process has open.
fn openFds() !usize {
    var dir = try std.fs.openDirAbsolute("/proc/self/fd", .{ .iterate = true });
    defer dir.close();
    var it = dir.iterate();
    var n: usize = 0;
    while (try it.next()) |_| n += 1;
    return n;
}

fn devNull() !i32 {
    const rc = linux.open("/dev/null", .{ .CLOEXEC = true }, 0);
    if (linux.E.init(rc) != .SUCCESS) return error.Open;
    return @intCast(rc);
}

test "a record and its fds arrive whole, close-on-exec" {
    const s = try pair();
    defer closeAll(&s);
    const a = try devNull();
    const b = try devNull();
    defer closeAll(&.{ a, b });
    const exit = proto.Exit{ .op = @intFromEnum(proto.Op.exit), .code = 42 };
    try testing.expectEqual(@as(i32, @sizeOf(proto.Exit)), ipc.send(s[0], std.mem.asBytes(&exit), &.{ a, b }));

    var buf: [64]u8 = undefined;
    var fds: [ipc.fds_max]i32 = undefined;
    var nfds: u32 = 0;
    const n = ipc.recv(s[1], &buf, &fds, &nfds, 1000);
    try testing.expectEqual(@as(i32, @sizeOf(proto.Exit)), n);
    defer closeAll(fds[0..nfds]);
    try testing.expectEqual(@as(u32, 2), nfds);
    for (fds[0..nfds]) |f| try testing.expectEqual(@as(usize, linux.FD_CLOEXEC), linux.fcntl(f, linux.F.GETFD, 0));
    const got = try records.fixed(proto.Exit, buf[0..@intCast(n)]);
    try testing.expectEqual(@as(i32, 42), got.code);
}

test "a record longer than the buffer is EMSGSIZE and its fds are closed" {
    const s = try pair();
    defer closeAll(&s);
    const a = try devNull();
    defer closeAll(&.{a});
    const before = try openFds();
    var big: [100]u8 = undefined;
    @memset(&big, 7);
    try testing.expectEqual(@as(i32, big.len), ipc.send(s[0], &big, &.{ a, a, a }));

    var buf: [16]u8 = undefined;
    var fds: [ipc.fds_max]i32 = undefined;
    var nfds: u32 = 0;
    try testing.expectEqual(-@as(i32, @intFromEnum(linux.E.MSGSIZE)), ipc.recv(s[1], &buf, &fds, &nfds, 1000));
    try testing.expectEqual(@as(u32, 0), nfds);
    try testing.expectEqual(before, try openFds());
}

test "more fds than the reader takes is EMSGSIZE, none kept" {
    const s = try pair();
    defer closeAll(&s);
    const a = try devNull();
    defer closeAll(&.{a});
    const before = try openFds();
    try testing.expectEqual(@as(i32, 8), ipc.send(s[0], "12345678", &.{ a, a, a, a }));
    var buf: [64]u8 = undefined;
    var fds: [2]i32 = undefined;
    var nfds: u32 = 0;
    try testing.expectEqual(-@as(i32, @intFromEnum(linux.E.MSGSIZE)), ipc.recv(s[1], &buf, &fds, &nfds, 1000));
    try testing.expectEqual(@as(u32, 0), nfds);
    try testing.expectEqual(before, try openFds());
}

test "send refuses more than fds_max fds; recv times out, and reads a closed peer as 0" {
    const s = try pair();
    defer _ = linux.close(s[1]);
    var many: [ipc.fds_max + 1]i32 = undefined;
    @memset(&many, 0);
    try testing.expectEqual(-@as(i32, @intFromEnum(linux.E.INVAL)), ipc.send(s[0], "x", &many));

    var buf: [8]u8 = undefined;
    var fds: [1]i32 = undefined;
    var nfds: u32 = 0;
    try testing.expectEqual(-@as(i32, @intFromEnum(linux.E.TIMEDOUT)), ipc.recv(s[1], &buf, &fds, &nfds, 0));
    _ = linux.close(s[0]);
    try testing.expectEqual(@as(i32, 0), ipc.recv(s[1], &buf, &fds, &nfds, 1000));
}

test "a Spawn whose fds do not match its counts is refused after it arrives" {
    const s = try pair();
    defer closeAll(&s);
    const a = try devNull();
    defer closeAll(&.{a});
    var out: [@sizeOf(proto.Spawn) + 8]u8 = undefined;
    const spawn = proto.Spawn{ .plan_len = 8, .clone_flags = 0, .keep_below = 3, .wait_for_parent = 0, .n_extra = 2, .n_join = 0, .has_cgroup_fd = 0, .subreaper = 0, .hold_signals = 0 };
    @memcpy(out[0..@sizeOf(proto.Spawn)], std.mem.asBytes(&spawn));
    @memcpy(out[@sizeOf(proto.Spawn)..], "BRPLplan");
    try testing.expect(ipc.send(s[0], &out, &.{a}) > 0);
    var buf: [128]u8 = undefined;
    var fds: [ipc.fds_max]i32 = undefined;
    var nfds: u32 = 0;
    const n = ipc.recv(s[1], &buf, &fds, &nfds, 1000);
    defer closeAll(fds[0..nfds]);
    try testing.expectEqual(@as(i32, out.len), n);
    try testing.expectError(error.FdCount, records.spawnOf(buf[0..@intCast(n)], nfds));
}
