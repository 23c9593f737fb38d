//! The plan: the Zig half of the wire format written by src/plan/wire.ts, and the sync record
//! the init sends back. Shared by the library (spawn) and the init (executor).
//! Layout (little-endian): header {magic u32, version u16, reserved u16, total_len u32,
//! op_count u32}, then op_count ops {kind u16, reserved u16, payload_len u32, payload, pad to 8}.
const std = @import("std");

pub const magic: u32 = 0x4c505242; // "BRPL"
pub const version: u16 = 4;
pub const header_size: u32 = 16;
pub const bytes_max: u32 = 4 * 1024 * 1024;
pub const ops_max: u32 = 4096;
pub const string_bytes_max: u32 = 4096;
pub const strs_count_max: u32 = 4096;

/// Mirror of `enum Op` in src/plan/wire.ts; payload fields are documented there.
pub const Op = enum(u16) {
    wait_parent = 1,
    setns_path = 2,
    setns_pidfd = 3,
    fork = 4,
    root_propagation = 5,
    bind_rootfs = 6,
    mount = 7,
    mknod = 8,
    symlink = 9,
    pivot_root = 10,
    move_root = 11,
    mask_path = 12,
    readonly_path = 13,
    readonly_root = 14,
    sysctl = 15,
    hostname = 16,
    domainname = 17,
    console = 18,
    setsid = 19,
    rlimit = 20,
    new_keyring = 21,
    oom_score_adj = 22,
    scheduler = 23,
    io_priority = 24,
    personality = 25,
    cpu_affinity = 26,
    identity = 27,
    chdir = 28,
    seccomp = 29,
    resolve_exec = 30,
    report_created = 31,
    wait_start = 32,
    run_hook = 33,
    exec = 34,
    keep_fds = 35,
    non_dumpable = 36,
    unshare = 37,
    time_ns = 38,
    exec_attr = 39,
    mkdir_all = 40,
    loopback_up = 41,
    bind_rootfs_private = 42,
    chroot_rootfs = 43,
    mem_policy = 44,
    _,
};

/// One record of the sync socket (SOCK_SEQPACKET), init -> runtime. 512 bytes, fixed.
pub const Msg = extern struct {
    kind: u32,
    op_index: u32,
    errno: i32,
    pid: i32,
    text: [496]u8,

    pub const wait: u32 = 1;
    pub const created: u32 = 2;
    pub const failed: u32 = 3;
    pub const forked: u32 = 4;
};

comptime {
    std.debug.assert(@sizeOf(Msg) == 512);
}

pub const DecodeError = error{ BadPlan, Truncated };

/// A bounds-checked cursor over one op's payload. Every read asserts it stays inside the payload.
pub const Reader = struct {
    bytes: []const u8,
    pos: u32 = 0,

    pub fn u32_(r: *Reader) DecodeError!u32 {
        const b = try r.take(4);
        return std.mem.readInt(u32, b[0..4], .little);
    }

    pub fn i32_(r: *Reader) DecodeError!i32 {
        return @bitCast(try r.u32_());
    }

    pub fn u64_(r: *Reader) DecodeError!u64 {
        const b = try r.take(8);
        return std.mem.readInt(u64, b[0..8], .little);
    }

    pub fn bytes_(r: *Reader) DecodeError![]const u8 {
        const len = try r.u32_();
        if (len > bytes_max) return error.BadPlan;
        return r.take(len);
    }

    /// A NUL-terminated string pointing into the plan itself (no copy).
    pub fn str(r: *Reader) DecodeError![:0]const u8 {
        const len = try r.u32_();
        if (len > string_bytes_max) return error.BadPlan;
        const b = try r.take(len + 1);
        if (b[len] != 0) return error.BadPlan;
        if (std.mem.indexOfScalar(u8, b[0..len], 0) != null) return error.BadPlan;
        return b[0..len :0];
    }

    /// Count of a `strs` list; the caller then reads that many `str`.
    pub fn strsCount(r: *Reader) DecodeError!u32 {
        const n = try r.u32_();
        if (n > strs_count_max) return error.BadPlan;
        return n;
    }

    fn take(r: *Reader, n: u32) DecodeError![]const u8 {
        if (n > r.bytes.len or r.pos > r.bytes.len - n) return error.Truncated;
        const out = r.bytes[r.pos .. r.pos + n];
        r.pos += n;
        return out;
    }
};

pub const OpView = struct { kind: Op, payload: Reader };

/// Walks a plan's ops after checking the header once.
pub const Iterator = struct {
    plan: []const u8,
    pos: u32,
    index: u32,
    count: u32,

    pub fn init(plan: []const u8) DecodeError!Iterator {
        if (plan.len < header_size or plan.len > bytes_max) return error.BadPlan;
        if (std.mem.readInt(u32, plan[0..4], .little) != magic) return error.BadPlan;
        if (std.mem.readInt(u16, plan[4..6], .little) != version) return error.BadPlan;
        const total = std.mem.readInt(u32, plan[8..12], .little);
        const count = std.mem.readInt(u32, plan[12..16], .little);
        if (total != plan.len) return error.BadPlan;
        if (count > ops_max) return error.BadPlan;
        return .{ .plan = plan, .pos = header_size, .index = 0, .count = count };
    }

    pub fn next(it: *Iterator) DecodeError!?OpView {
        if (it.index == it.count) return null;
        if (it.plan.len - it.pos < 8) return error.Truncated;
        const head = it.plan[it.pos..][0..8];
        const kind = std.mem.readInt(u16, head[0..2], .little);
        const len = std.mem.readInt(u32, head[4..8], .little);
        const start = it.pos + 8;
        if (len > it.plan.len - start) return error.Truncated;
        const padded = (len + 7) & ~@as(u32, 7);
        it.pos = @intCast(@min(it.plan.len, start + padded));
        it.index += 1;
        return .{ .kind = @enumFromInt(kind), .payload = .{ .bytes = it.plan[start .. start + len] } };
    }
};

test "iterator rejects a bad magic and reads ops" {
    var buf = [_]u8{0} ** 32;
    std.mem.writeInt(u32, buf[0..4], magic, .little);
    std.mem.writeInt(u16, buf[4..6], version, .little);
    std.mem.writeInt(u32, buf[8..12], 32, .little);
    std.mem.writeInt(u32, buf[12..16], 1, .little);
    std.mem.writeInt(u16, buf[16..18], @intFromEnum(Op.wait_parent), .little);
    std.mem.writeInt(u32, buf[20..24], 4, .little);
    std.mem.writeInt(u32, buf[24..28], 7, .little);
    var it = try Iterator.init(&buf);
    const op = (try it.next()).?;
    try std.testing.expectEqual(Op.wait_parent, op.kind);
    var r = op.payload;
    try std.testing.expectEqual(@as(u32, 7), try r.u32_());
    try std.testing.expectError(error.Truncated, r.u32_());
    try std.testing.expect((try it.next()) == null);
    buf[0] = 0;
    try std.testing.expectError(error.BadPlan, Iterator.init(&buf));
}
