//! Unit tests of the plan decoder (zig/plan.zig): what src/plan/wire.ts writes reads back, and
//! every malformed plan is refused with BadPlan or Truncated — never read past its bytes (a read
//! out of bounds panics in this Debug build and fails the test). The Builder writes plans the way
//! wire.ts does, for these tests and the init's (zig/init/dispatch_test.zig).
const std = @import("std");
const plan = @import("plan");
const testing = std.testing;

/// Writes a plan into a fixed buffer, as src/plan/wire.ts does: header, then ops padded to 8.
pub const Builder = struct {
    buf: []u8,
    len: u32 = plan.header_size,
    count: u32 = 0,
    op_at: u32 = 0,

    pub fn init(buf: []u8) Builder {
        std.debug.assert(buf.len >= plan.header_size);
        return .{ .buf = buf };
    }

    /// Starts an op of `kind` (a raw number, so tests can write kinds the decoder never heard of).
    pub fn op(b: *Builder, kind: u16) *Builder {
        b.endOp();
        b.op_at = b.len;
        b.putInt(u16, kind);
        b.putInt(u16, 0);
        b.putInt(u32, 0);
        b.count += 1;
        return b;
    }

    pub fn int(b: *Builder, comptime T: type, v: T) *Builder {
        b.putInt(T, v);
        return b;
    }

    pub fn str(b: *Builder, s: []const u8) *Builder {
        b.putInt(u32, @intCast(s.len));
        b.raw(s);
        b.raw("\x00");
        return b;
    }

    pub fn raw(b: *Builder, bytes: []const u8) void {
        @memcpy(b.buf[b.len..][0..bytes.len], bytes);
        b.len += @intCast(bytes.len);
    }

    /// The finished plan: the last op's length and padding, then the header.
    pub fn finish(b: *Builder) []u8 {
        b.endOp();
        std.mem.writeInt(u32, b.buf[0..4], plan.magic, .little);
        std.mem.writeInt(u16, b.buf[4..6], plan.version, .little);
        std.mem.writeInt(u16, b.buf[6..8], 0, .little);
        std.mem.writeInt(u32, b.buf[8..12], b.len, .little);
        std.mem.writeInt(u32, b.buf[12..16], b.count, .little);
        return b.buf[0..b.len];
    }

    fn endOp(b: *Builder) void {
        if (b.count == 0) return;
        const payload = b.len - b.op_at - 8;
        std.mem.writeInt(u32, b.buf[b.op_at + 4 ..][0..4], payload, .little);
        while (b.len % 8 != 0) b.raw("\x00");
    }

    fn putInt(b: *Builder, comptime T: type, v: T) void {
        std.mem.writeInt(T, b.buf[b.len..][0..@sizeOf(T)], v, .little);
        b.len += @sizeOf(T);
    }
};

/// A plan of three ops with every field type: hostname "box" (str), rlimit (u32, u64, u64), an
/// identity-like payload with bytes and a strs list under an unknown kind.
fn sample(buf: []u8) []u8 {
    var b = Builder.init(buf);
    _ = b.op(@intFromEnum(plan.Op.hostname)).str("box");
    _ = b.op(@intFromEnum(plan.Op.rlimit)).int(u32, 7).int(u64, 1024).int(u64, std.math.maxInt(u64));
    _ = b.op(900).int(i32, -5).int(u32, 2).str("a").str("");
    return b.finish();
}

test "a plan written as wire.ts writes it reads back, op by op, field by field" {
    var buf: [256]u8 = undefined;
    const bytes = sample(&buf);
    try testing.expectEqual(@as(usize, 0), bytes.len % 8);
    var it = try plan.Iterator.init(bytes);

    const a = (try it.next()).?;
    try testing.expectEqual(plan.Op.hostname, a.kind);
    var r = a.payload;
    try testing.expectEqualStrings("box", try r.str());
    try testing.expectError(error.Truncated, r.u32_());

    const b = (try it.next()).?;
    try testing.expectEqual(plan.Op.rlimit, b.kind);
    r = b.payload;
    try testing.expectEqual(@as(u32, 7), try r.u32_());
    try testing.expectEqual(@as(u64, 1024), try r.u64_());
    try testing.expectEqual(std.math.maxInt(u64), try r.u64_());

    const c = (try it.next()).?;
    // A kind this build does not know decodes as a non-named value: the init refuses it.
    try testing.expectEqual(@as(u16, 900), @intFromEnum(c.kind));
    r = c.payload;
    try testing.expectEqual(@as(i32, -5), try r.i32_());
    const n = try r.strsCount();
    try testing.expectEqual(@as(u32, 2), n);
    try testing.expectEqualStrings("a", try r.str());
    try testing.expectEqualStrings("", try r.str());

    try testing.expect((try it.next()) == null);
    try testing.expectEqual(@as(u32, 3), it.index);
}

test "a bad header is refused: size, magic, version, total length, op count" {
    var buf: [256]u8 = undefined;
    const good = sample(&buf);
    var copy: [256]u8 = undefined;

    for (0..plan.header_size) |n| try testing.expectError(error.BadPlan, plan.Iterator.init(good[0..n]));
    const cases = [_]struct { at: usize, value: u32 }{
        .{ .at = 0, .value = 0x4c505243 }, // magic
        .{ .at = 4, .value = plan.version + 1 }, // version (u16, with reserved 0)
        .{ .at = 4, .value = plan.version - 1 },
        .{ .at = 8, .value = @intCast(good.len - 8) }, // total_len unlike the bytes
        .{ .at = 8, .value = @intCast(good.len + 8) },
        .{ .at = 12, .value = plan.ops_max + 1 }, // op_count over the limit
    };
    for (cases) |case| {
        @memcpy(copy[0..good.len], good);
        std.mem.writeInt(u32, copy[case.at..][0..4], case.value, .little);
        try testing.expectError(error.BadPlan, plan.Iterator.init(copy[0..good.len]));
    }
    // The whole plan is bounded: 4 MiB + 8 is refused before anything is read.
    const big = try testing.allocator.alloc(u8, plan.bytes_max + 8);
    defer testing.allocator.free(big);
    @memcpy(big[0..good.len], good);
    std.mem.writeInt(u32, big[8..12], @intCast(big.len), .little);
    try testing.expectError(error.BadPlan, plan.Iterator.init(big));
}

test "ops that run past the plan are Truncated" {
    var buf: [256]u8 = undefined;
    const good = sample(&buf);
    var copy: [256]u8 = undefined;

    // More ops announced than there are: the fourth op header is missing.
    @memcpy(copy[0..good.len], good);
    std.mem.writeInt(u32, copy[12..16], 4, .little);
    var it = try plan.Iterator.init(copy[0..good.len]);
    for (0..3) |_| _ = (try it.next()).?;
    try testing.expectError(error.Truncated, it.next());

    // An op whose payload_len reaches past the end (and one at u32's maximum).
    for ([_]u32{ @intCast(good.len), std.math.maxInt(u32) }) |len| {
        @memcpy(copy[0..good.len], good);
        std.mem.writeInt(u32, copy[plan.header_size + 4 ..][0..4], len, .little);
        it = try plan.Iterator.init(copy[0..good.len]);
        try testing.expectError(error.Truncated, it.next());
    }
}

test "payload fields are bounded: strings, NULs, byte runs, list counts" {
    const Case = struct { bytes: []const u8, want: plan.DecodeError };
    const long_len = "\x01\x10\x00\x00"; // 4097: one over string_bytes_max
    const huge_len = "\xff\xff\xff\xff";
    const cases = [_]Case{
        .{ .bytes = long_len ++ "x", .want = error.BadPlan },
        .{ .bytes = huge_len, .want = error.BadPlan },
        .{ .bytes = "\x03\x00\x00\x00abcX", .want = error.BadPlan }, // no NUL where it ends
        .{ .bytes = "\x03\x00\x00\x00a\x00c\x00", .want = error.BadPlan }, // a NUL inside
        .{ .bytes = "\x03\x00\x00\x00abc", .want = error.Truncated }, // the NUL is missing
        .{ .bytes = "\x03\x00\x00", .want = error.Truncated }, // the length is cut
    };
    for (cases) |case| {
        var r = plan.Reader{ .bytes = case.bytes };
        try testing.expectError(case.want, r.str());
    }
    var r = plan.Reader{ .bytes = huge_len };
    try testing.expectError(error.BadPlan, r.bytes_());
    r = .{ .bytes = "\x05\x00\x00\x00abcd" };
    try testing.expectError(error.Truncated, r.bytes_());
    r = .{ .bytes = long_len };
    try testing.expectError(error.BadPlan, r.strsCount());
    r = .{ .bytes = "\x01\x02\x03\x04\x05\x06\x07" };
    try testing.expectError(error.Truncated, r.u64_());
}

test "every prefix and every flipped byte of a plan decodes or is refused, never read out of bounds" {
    var buf: [256]u8 = undefined;
    const good = sample(&buf);
    var copy: [256]u8 = undefined;
    for (0..good.len + 1) |n| {
        @memcpy(copy[0..n], good[0..n]);
        // A shorter total_len agrees with the prefix, so the ops themselves get cut.
        if (n >= plan.header_size) std.mem.writeInt(u32, copy[8..12], @intCast(n), .little);
        walk(copy[0..n]);
    }
    for (0..good.len) |at| {
        for ([_]u8{ 0x00, 0x01, 0x7f, 0x80, 0xff }) |v| {
            @memcpy(copy[0..good.len], good);
            copy[at] = v;
            walk(copy[0..good.len]);
        }
    }
}

/// Decodes every op and reads its payload the way each sample op is read; errors are expected,
/// a panic is the failure.
fn walk(bytes: []const u8) void {
    var it = plan.Iterator.init(bytes) catch return;
    while (it.next() catch return) |op| {
        var r = op.payload;
        switch (op.kind) {
            .hostname => _ = r.str() catch continue,
            .rlimit => {
                _ = r.u32_() catch continue;
                _ = r.u64_() catch continue;
                _ = r.u64_() catch continue;
            },
            else => {
                _ = r.i32_() catch continue;
                const n = r.strsCount() catch continue;
                for (0..n) |_| _ = r.str() catch break;
            },
        }
    }
}
