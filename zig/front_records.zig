//! The front's side of the records (zig/proto.zig): the Request it writes, and the checks on every
//! record the server sends before the front acts on it. Pure functions over bytes, so the unit
//! tests (zig/tests.zig) feed them malformed records; front.zig turns a RecordError into its
//! one-line protocol error.
const std = @import("std");
const proto = @import("proto.zig");
const spawn = @import("spawn.zig");

pub const RecordError = error{ Short, SpawnShort, WrongSize, PlanLength, TooManyFds, FdCount, KeepBelow };

/// The protocol error line's text for each way a record can be malformed.
pub fn describe(e: RecordError) []const u8 {
    return switch (e) {
        error.Short => "a record shorter than its op",
        error.SpawnShort => "a Spawn record shorter than its header",
        error.WrongSize => "a record of the wrong size",
        error.PlanLength => "a Spawn plan_len unlike the record's length",
        error.TooManyFds => "a Spawn with too many fds",
        error.FdCount => "a Spawn whose fds do not match its counts",
        error.KeepBelow => "a Spawn keep_below out of range",
    };
}

/// The op every record starts with.
pub fn opOf(message: []const u8) RecordError!u32 {
    if (message.len < 4) return error.Short;
    return std.mem.readInt(u32, message[0..4], .little);
}

/// A fixed-size record (Exit, Wait, ...), exactly its size.
pub fn fixed(comptime T: type, message: []const u8) RecordError!T {
    if (message.len != @sizeOf(T)) return error.WrongSize;
    return std.mem.bytesToValue(T, message[0..@sizeOf(T)]);
}

/// A Spawn record checked against the fds that came with it: the header, and the plan bytes
/// (a slice of `message`).
pub const SpawnRecord = struct { header: proto.Spawn, plan: []const u8 };

pub fn spawnOf(message: []const u8, nfds: usize) RecordError!SpawnRecord {
    if (message.len < @sizeOf(proto.Spawn)) return error.SpawnShort;
    const s = std.mem.bytesToValue(proto.Spawn, message[0..@sizeOf(proto.Spawn)]);
    const plan_bytes = message[@sizeOf(proto.Spawn)..];
    if (s.plan_len != plan_bytes.len) return error.PlanLength;
    if (s.n_extra > spawn.extra_fds_max or s.n_join > spawn.join_fds_max or s.has_cgroup_fd > 1) return error.TooManyFds;
    if (@as(usize, s.n_extra) + s.n_join + s.has_cgroup_fd != nfds) return error.FdCount;
    if (s.keep_below < 3 or s.keep_below > 1024) return error.KeepBelow;
    return .{ .header = s, .plan = plan_bytes };
}

/// Writes a Request into `buf`: the header, then argv and the environment as NUL-terminated
/// strings (`argv`, `env`: slices of byte slices or of NUL-terminated pointers, as std.os.argv).
/// Its length, or null when it does not fit.
pub fn encodeRequest(buf: []u8, argv: anytype, env: anytype) ?usize {
    if (buf.len < @sizeOf(proto.Request)) return null;
    var at: usize = @sizeOf(proto.Request);
    for (argv) |s| at = appendZ(buf, at, bytesOf(s)) orelse return null;
    for (env) |s| at = appendZ(buf, at, bytesOf(s)) orelse return null;
    const request = proto.Request{
        .kind = @intFromEnum(proto.Kind.call),
        .argc = @intCast(argv.len),
        .envc = @intCast(env.len),
        .strings = @intCast(at - @sizeOf(proto.Request)),
    };
    @memcpy(buf[0..@sizeOf(proto.Request)], std.mem.asBytes(&request));
    return at;
}

fn bytesOf(s: anytype) []const u8 {
    return if (@typeInfo(@TypeOf(s)).pointer.size == .slice) s else std.mem.span(s);
}

fn appendZ(buf: []u8, at: usize, s: []const u8) ?usize {
    if (s.len + 1 > buf.len - at) return null;
    @memcpy(buf[at..][0..s.len], s);
    buf[at + s.len] = 0;
    return at + s.len + 1;
}

const testing = std.testing;

fn spawnBytes(out: []u8, s: proto.Spawn, plan_bytes: []const u8) []const u8 {
    @memcpy(out[0..@sizeOf(proto.Spawn)], std.mem.asBytes(&s));
    @memcpy(out[@sizeOf(proto.Spawn)..][0..plan_bytes.len], plan_bytes);
    return out[0 .. @sizeOf(proto.Spawn) + plan_bytes.len];
}

const good_spawn = proto.Spawn{ .plan_len = 5, .clone_flags = 0, .keep_below = 3, .wait_for_parent = 0, .n_extra = 1, .n_join = 2, .has_cgroup_fd = 1, .subreaper = 0, .hold_signals = 0 };

test "a well-formed Spawn record gives its header and plan" {
    var out: [128]u8 = undefined;
    const r = try spawnOf(spawnBytes(&out, good_spawn, "plan!"), 4);
    try testing.expectEqualStrings("plan!", r.plan);
    try testing.expectEqual(@as(u32, 2), r.header.n_join);
}

test "malformed Spawn records are refused, each for its reason" {
    var good: [128]u8 = undefined;
    const msg = spawnBytes(&good, good_spawn, "plan!");
    var out: [128]u8 = undefined;
    // Cut anywhere inside the header.
    for (0..@sizeOf(proto.Spawn)) |n| try testing.expectError(error.SpawnShort, spawnOf(msg[0..n], 4));
    // plan_len longer or shorter than the bytes that came.
    try testing.expectError(error.PlanLength, spawnOf(msg[0 .. msg.len - 1], 4));
    var s = good_spawn;
    s.plan_len = 0xffff_ffff;
    try testing.expectError(error.PlanLength, spawnOf(spawnBytes(&out, s, "plan!"), 4));
    // fd counts: more than spawn.zig takes, or not the fds that arrived.
    s = good_spawn;
    s.n_extra = spawn.extra_fds_max + 1;
    try testing.expectError(error.TooManyFds, spawnOf(spawnBytes(&out, s, "plan!"), 4));
    s = good_spawn;
    s.has_cgroup_fd = 2;
    try testing.expectError(error.TooManyFds, spawnOf(spawnBytes(&out, s, "plan!"), 5));
    try testing.expectError(error.FdCount, spawnOf(msg, 3));
    try testing.expectError(error.FdCount, spawnOf(msg, 5));
    // keep_below must leave 0..2 to stdio and stay bounded.
    for ([_]u32{ 0, 2, 1025, 0xffff_ffff }) |k| {
        s = good_spawn;
        s.keep_below = k;
        try testing.expectError(error.KeepBelow, spawnOf(spawnBytes(&out, s, "plan!"), 4));
    }
}

test "fixed records are exactly their size; an op needs four bytes" {
    const exit = proto.Exit{ .op = @intFromEnum(proto.Op.exit), .code = 3 };
    const bytes = std.mem.asBytes(&exit);
    try testing.expectEqual(@as(i32, 3), (try fixed(proto.Exit, bytes)).code);
    try testing.expectError(error.WrongSize, fixed(proto.Exit, bytes[0..7]));
    var longer: [9]u8 = undefined;
    @memcpy(longer[0..8], bytes);
    try testing.expectError(error.WrongSize, fixed(proto.Exit, &longer));
    try testing.expectError(error.WrongSize, fixed(proto.Wait, bytes));
    try testing.expectEqual(@as(u32, @intFromEnum(proto.Op.exit)), try opOf(bytes));
    try testing.expectError(error.Short, opOf(bytes[0..3]));
    try testing.expectError(error.Short, opOf(""));
}

test "a Request carries argv and the environment NUL-terminated, or does not fit" {
    var out: [64]u8 = undefined;
    const argv = [_][]const u8{ "bunrunc", "state" };
    const env = [_][]const u8{"A=1"};
    const none = [_][]const u8{};
    const n = encodeRequest(&out, &argv, &env).?;
    const req = std.mem.bytesToValue(proto.Request, out[0..@sizeOf(proto.Request)]);
    try testing.expectEqual(proto.magic, req.magic);
    try testing.expectEqual(@as(u32, 2), req.argc);
    try testing.expectEqual(@as(u32, 1), req.envc);
    try testing.expectEqual(@as(u32, @intCast(n - @sizeOf(proto.Request))), req.strings);
    try testing.expectEqualStrings("bunrunc\x00state\x00A=1\x00", out[@sizeOf(proto.Request)..n]);
    // One byte short of the last NUL, and a buffer smaller than the header.
    try testing.expect(encodeRequest(out[0 .. n - 1], &argv, &env) == null);
    try testing.expect(encodeRequest(out[0..10], &none, &none) == null);
    try testing.expectEqual(@as(usize, @sizeOf(proto.Request)), encodeRequest(&out, &none, &none).?);
}
