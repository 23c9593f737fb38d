//! The fast-verbs record create leaves in `<root>/<id>/fast-verbs` (src/state/fast-record.ts
//! writes it; its comment has the layout, which this must match). Read as untrusted bytes even
//! after the trust checks: every length and value is checked, anything out of place is null and
//! the call goes to bunrunc-core.
const std = @import("std");

pub const file_name = "fast-verbs";
pub const magic: u32 = 0x56465242; // "BRFV"
pub const version: u16 = 1;
pub const bytes_max = 32 * 1024;
pub const cgroups_max = 16;
pub const flag_own_pid_ns: u16 = 1;
const header_bytes = 32;
const path_len_max = 4095;

pub const Freezer = enum(u8) { none = 0, v1 = 1, v2 = 2 };

pub const Record = struct {
    pid: i32,
    start_time: u64,
    own_pid_ns: bool,
    freezer: Freezer,
    freezer_file: []const u8,
    cgroup_dirs: [cgroups_max][]const u8,
    n_cgroups: usize,
    /// `state`'s text before its pid, and after its status.
    state_head: []const u8,
    state_tail: []const u8,

    pub fn cgroups(self: *const Record) []const []const u8 {
        return self.cgroup_dirs[0..self.n_cgroups];
    }
};

/// The record in `bytes` (the whole file), or null.
pub fn parse(bytes: []const u8) ?Record {
    if (bytes.len < header_bytes or bytes.len > bytes_max) return null;
    const le = std.builtin.Endian.little;
    if (std.mem.readInt(u32, bytes[0..4], le) != magic) return null;
    if (std.mem.readInt(u16, bytes[4..6], le) != version) return null;
    const flags = std.mem.readInt(u16, bytes[6..8], le);
    if (flags & ~flag_own_pid_ns != 0) return null;
    if (std.mem.readInt(u32, bytes[8..12], le) != bytes.len) return null;
    const pid = std.mem.readInt(i32, bytes[12..16], le);
    const start_time = std.mem.readInt(u64, bytes[16..24], le);
    if (pid <= 0 or start_time == 0) return null;
    const cgroup_version = bytes[24];
    if (cgroup_version != 1 and cgroup_version != 2) return null;
    const freezer = std.meta.intToEnum(Freezer, bytes[25]) catch return null;
    const n_cgroups = bytes[26];
    if (n_cgroups > cgroups_max) return null;
    if (bytes[27] != 0 or std.mem.readInt(u32, bytes[28..32], le) != 0) return null;

    var r = Record{
        .pid = pid,
        .start_time = start_time,
        .own_pid_ns = flags & flag_own_pid_ns != 0,
        .freezer = freezer,
        .freezer_file = "",
        .cgroup_dirs = undefined,
        .n_cgroups = n_cgroups,
        .state_head = "",
        .state_tail = "",
    };
    var at: usize = header_bytes;
    r.freezer_file = string(bytes, &at) orelse return null;
    if ((freezer == .none) != (r.freezer_file.len == 0)) return null;
    if (freezer != .none and !isPath(r.freezer_file)) return null;
    for (r.cgroup_dirs[0..n_cgroups]) |*dir| {
        dir.* = string(bytes, &at) orelse return null;
        if (!isPath(dir.*)) return null;
    }
    r.state_head = string(bytes, &at) orelse return null;
    r.state_tail = string(bytes, &at) orelse return null;
    if (at != bytes.len) return null;
    // The text the TS renders: an object whose pid key ends the head.
    if (!std.mem.startsWith(u8, r.state_head, "{\n") or !std.mem.endsWith(u8, r.state_head, "\"pid\": ")) return null;
    if (!std.mem.endsWith(u8, r.state_tail, "\n}")) return null;
    return r;
}

/// A u16-length-prefixed string at `at.*`, advanced past it; null when it overruns or holds NUL.
fn string(bytes: []const u8, at: *usize) ?[]const u8 {
    if (bytes.len - at.* < 2) return null;
    const len = std.mem.readInt(u16, bytes[at.*..][0..2], .little);
    const start = at.* + 2;
    if (bytes.len - start < len) return null;
    const s = bytes[start..][0..len];
    if (std.mem.indexOfScalar(u8, s, 0) != null) return null;
    at.* = start + len;
    return s;
}

/// An absolute path that fits a PATH_MAX buffer with its NUL.
fn isPath(s: []const u8) bool {
    return s.len > 1 and s.len <= path_len_max and s[0] == '/';
}

const testing = std.testing;

const sample_freezer = "/sys/fs/cgroup/freezer/c/freezer.state";
/// Where the sample's first cgroup dir starts.
const first_cgroup = header_bytes + 2 + sample_freezer.len + 2;

/// What src/state/fast-record.ts encodes, built here for the tests.
fn sample(buf: []u8, n_cgroups: u8, head: []const u8) []u8 {
    var at: usize = header_bytes;
    const strings = [_][]const u8{ sample_freezer, "/sys/fs/cgroup/cpu/c", "/sys/fs/cgroup/memory/c", head, ",\n  \"bundle\": \"/b\"\n}" };
    for (strings, 0..) |s, k| {
        if (k >= 1 + n_cgroups and k < 3) continue;
        std.mem.writeInt(u16, buf[at..][0..2], @intCast(s.len), .little);
        @memcpy(buf[at + 2 ..][0..s.len], s);
        at += 2 + s.len;
    }
    @memset(buf[0..header_bytes], 0);
    std.mem.writeInt(u32, buf[0..4], magic, .little);
    std.mem.writeInt(u16, buf[4..6], version, .little);
    std.mem.writeInt(u16, buf[6..8], flag_own_pid_ns, .little);
    std.mem.writeInt(u32, buf[8..12], @intCast(at), .little);
    std.mem.writeInt(i32, buf[12..16], 4242, .little);
    std.mem.writeInt(u64, buf[16..24], 123456, .little);
    buf[24] = 1;
    buf[25] = 1;
    buf[26] = n_cgroups;
    return buf[0..at];
}

test "front_record: a good record reads back" {
    var buf: [512]u8 = undefined;
    const bytes = sample(&buf, 2, "{\n  \"id\": \"c\",\n  \"pid\": ");
    const r = parse(bytes).?;
    try testing.expectEqual(@as(i32, 4242), r.pid);
    try testing.expectEqual(@as(u64, 123456), r.start_time);
    try testing.expect(r.own_pid_ns);
    try testing.expectEqual(Freezer.v1, r.freezer);
    try testing.expectEqual(@as(usize, 2), r.cgroups().len);
    try testing.expectEqualStrings("/sys/fs/cgroup/memory/c", r.cgroups()[1]);
}

test "front_record: every tampered byte of the header, a cut or a longer file is refused" {
    var buf: [512]u8 = undefined;
    const bytes = sample(&buf, 2, "{\n  \"id\": \"c\",\n  \"pid\": ");
    for (0..header_bytes) |k| {
        // The pid's and start time's bytes: most values of each are valid.
        if (k >= 12 and k < 24) continue;
        const saved = bytes[k];
        bytes[k] ^= 0x80;
        try testing.expect(parse(bytes) == null);
        bytes[k] = saved;
    }
    for (0..bytes.len) |cut| try testing.expect(parse(bytes[0..cut]) == null);
    var longer: [513]u8 = undefined;
    @memcpy(longer[0..bytes.len], bytes);
    longer[bytes.len] = 0;
    try testing.expect(parse(longer[0 .. bytes.len + 1]) == null);
    // A relative cgroup path, a string length past the end, a NUL inside a string.
    bytes[first_cgroup] = 'x';
    try testing.expect(parse(bytes) == null);
    bytes[first_cgroup] = '/';
    try testing.expect(parse(bytes) != null);
    bytes[first_cgroup - 2] = 0xff;
    try testing.expect(parse(bytes) == null);
    bytes[first_cgroup - 2] = "/sys/fs/cgroup/cpu/c".len;
    try testing.expect(parse(bytes) != null);
    bytes[first_cgroup + 5] = 0;
    try testing.expect(parse(bytes) == null);
}

test "front_record: a state text not shaped as the TS renders it is refused" {
    var buf: [512]u8 = undefined;
    try testing.expect(parse(sample(&buf, 0, "{\n  \"id\": \"c\",\n  \"pid\": 1")) == null);
    try testing.expect(parse(sample(&buf, 0, "[\n  \"pid\": ")) == null);
    try testing.expect(parse(sample(&buf, 0, "{\n  \"pid\": ")) != null);
}
