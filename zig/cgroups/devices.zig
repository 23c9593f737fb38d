//! cgroup v2 device control: builds a BPF_PROG_TYPE_CGROUP_DEVICE program from a normalized rule
//! set (one default verdict + exceptions that all carry the opposite verdict, computed by
//! src/cgroups/devices.ts), loads it, attaches it to the container's cgroup with
//! BPF_F_ALLOW_MULTI and then detaches every device program that was there before, so `update`
//! replaces the filter without a window where the cgroup has none.
const std = @import("std");
const linux = std.os.linux;
const BPF = linux.BPF;
const Insn = BPF.Insn;

/// One exception as TS encodes it (12 bytes, little-endian).
pub const Rule = extern struct {
    /// BPF_DEVCG_DEV_BLOCK = 1, BPF_DEVCG_DEV_CHAR = 2
    dev_type: u8,
    /// BPF_DEVCG_ACC_MKNOD = 1, READ = 2, WRITE = 4
    access: u8,
    /// bit 0: major is given (else any), bit 1: minor is given
    flags: u8,
    reserved: u8,
    major: u32,
    minor: u32,
};

comptime {
    std.debug.assert(@sizeOf(Rule) == 12);
}

pub const rules_max: u32 = 512;
const insns_per_rule_max = 8;
const insns_max = 6 + rules_max * insns_per_rule_max;
const access_all: u8 = 7;
const has_major: u8 = 1;
const has_minor: u8 = 2;
const prog_ids_max = 64;

/// Where a failure happened, for the TS error message.
pub const Stage = enum(u32) { none = 0, input, open_cgroup, query, load, attach, detach_old };

var insns: [insns_max]Insn = undefined;
var log_buf: [4096]u8 = undefined;

fn errnoOf(rc: usize) u16 {
    return @intFromEnum(linux.E.init(rc));
}

/// Appends one exception; `verdict` is what a match returns (the opposite of the default).
fn emitRule(out: []Insn, n: *usize, r: Rule, verdict: i32) void {
    std.debug.assert(r.dev_type == 1 or r.dev_type == 2);
    std.debug.assert(r.access != 0 and r.access & ~access_all == 0);
    const check_access = r.access != access_all;
    const check_major = r.flags & has_major != 0;
    const check_minor = r.flags & has_minor != 0;
    // Instructions after the type check up to and including the exit: the jump distance to the
    // next rule's first instruction.
    var rest: i16 = 2;
    if (check_access) rest += 3;
    if (check_major) rest += 1;
    if (check_minor) rest += 1;
    var i = n.*;
    out[i] = Insn.jne(.r2, @as(i32, r.dev_type), rest);
    i += 1;
    if (check_access) {
        out[i] = Insn.alu(32, .mov, .r1, .r3);
        i += 1;
        if (verdict == 1) {
            // An allow exception matches when every requested bit is allowed.
            out[i] = Insn.alu(32, .alu_and, .r1, @as(i32, ~r.access & access_all));
            out[i + 1] = Insn.jne(.r1, 0, rest - 3);
        } else {
            // A deny exception matches when any requested bit is denied.
            out[i] = Insn.alu(32, .alu_and, .r1, @as(i32, r.access));
            out[i + 1] = Insn.jeq(.r1, 0, rest - 3);
        }
        i += 2;
    }
    if (check_major) {
        out[i] = Insn.jne(.r4, @as(i32, @bitCast(r.major)), @intCast(n.* + @as(usize, @intCast(rest)) - i));
        i += 1;
    }
    if (check_minor) {
        out[i] = Insn.jne(.r5, @as(i32, @bitCast(r.minor)), @intCast(n.* + @as(usize, @intCast(rest)) - i));
        i += 1;
    }
    out[i] = Insn.alu(32, .mov, .r0, verdict);
    out[i + 1] = Insn.exit();
    i += 2;
    std.debug.assert(i == n.* + 1 + @as(usize, @intCast(rest)));
    n.* = i;
}

/// The whole program: ctx is struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }.
pub fn build(rules: []const Rule, default_allow: bool) []const Insn {
    std.debug.assert(rules.len <= rules_max);
    var n: usize = 0;
    insns[0] = Insn.ldx(.word, .r2, .r1, 0);
    insns[1] = Insn.alu(32, .alu_and, .r2, 0xFFFF);
    insns[2] = Insn.ldx(.word, .r3, .r1, 0);
    insns[3] = Insn.alu(32, .rsh, .r3, 16);
    insns[4] = Insn.ldx(.word, .r4, .r1, 4);
    insns[5] = Insn.ldx(.word, .r5, .r1, 8);
    n = 6;
    const verdict: i32 = if (default_allow) 0 else 1;
    for (rules) |r| emitRule(&insns, &n, r, verdict);
    insns[n] = Insn.alu(32, .mov, .r0, @as(i32, if (default_allow) 1 else 0));
    insns[n + 1] = Insn.exit();
    n += 2;
    std.debug.assert(n <= insns_max);
    return insns[0..n];
}

fn validRule(r: Rule) bool {
    if (r.dev_type != 1 and r.dev_type != 2) return false;
    if (r.access == 0 or r.access & ~access_all != 0) return false;
    return r.flags & ~(has_major | has_minor) == 0;
}

/// Attached device programs of the cgroup at `dir_fd`: their ids into `ids`, the count returned.
fn query(dir_fd: i32, ids: *[prog_ids_max]u32) isize {
    var attr = std.mem.zeroes(BPF.Attr);
    attr.query.target_fd = dir_fd;
    attr.query.attach_type = @intFromEnum(BPF.AttachType.cgroup_device);
    attr.query.prog_ids = @intFromPtr(ids);
    attr.query.prog_cnt = prog_ids_max;
    const rc = linux.bpf(.prog_query, &attr, @sizeOf(BPF.QueryAttr));
    if (errnoOf(rc) != 0) return -@as(isize, errnoOf(rc));
    return @intCast(attr.query.prog_cnt);
}

fn openDir(path: [*:0]const u8) isize {
    const rc = linux.open(path, .{ .DIRECTORY = true, .CLOEXEC = true }, 0);
    if (errnoOf(rc) != 0) return -@as(isize, errnoOf(rc));
    return @intCast(rc);
}

fn load(prog: []const Insn) isize {
    var attr = std.mem.zeroes(BPF.Attr);
    const license = "Apache-2.0";
    attr.prog_load.prog_type = @intFromEnum(BPF.ProgType.cgroup_device);
    attr.prog_load.insns = @intFromPtr(prog.ptr);
    attr.prog_load.insn_cnt = @intCast(prog.len);
    attr.prog_load.license = @intFromPtr(license.ptr);
    // The kernel refuses a log buffer with log_level 0: give it one only when asked to debug.
    if (std.posix.getenv("BUNRUNC_BPF_LOG") != null) {
        attr.prog_load.log_buf = @intFromPtr(&log_buf);
        attr.prog_load.log_size = log_buf.len;
        attr.prog_load.log_level = 1;
    }
    const rc = linux.bpf(.prog_load, &attr, @sizeOf(BPF.ProgLoadAttr));
    if (errnoOf(rc) != 0) return -@as(isize, errnoOf(rc));
    return @intCast(rc);
}

fn attachOrDetach(cmd: BPF.Cmd, dir_fd: i32, prog_fd: i32, flags: u32) u16 {
    var attr = std.mem.zeroes(BPF.Attr);
    attr.prog_attach.target_fd = dir_fd;
    attr.prog_attach.attach_bpf_fd = prog_fd;
    attr.prog_attach.attach_type = @intFromEnum(BPF.AttachType.cgroup_device);
    attr.prog_attach.attach_flags = flags;
    return errnoOf(linux.bpf(cmd, &attr, @sizeOf(BPF.ProgAttachAttr)));
}

fn progFdById(id: u32) isize {
    var attr = std.mem.zeroes(BPF.Attr);
    attr.get_id.id.prog_id = id;
    const rc = linux.bpf(.prog_get_fd_by_id, &attr, @sizeOf(BPF.GetIdAttr));
    if (errnoOf(rc) != 0) return -@as(isize, errnoOf(rc));
    return @intCast(rc);
}

/// Returns 0, or -errno with `stage.*` saying which step failed.
pub fn attach(path: [*:0]const u8, rules_ptr: [*]const Rule, rule_count: u32, default_allow: bool, stage: *u32) i32 {
    stage.* = @intFromEnum(Stage.input);
    if (rule_count > rules_max) return -@as(i32, @intFromEnum(linux.E.@"2BIG"));
    const rules = rules_ptr[0..rule_count];
    for (rules) |r| if (!validRule(r)) return -@as(i32, @intFromEnum(linux.E.INVAL));

    stage.* = @intFromEnum(Stage.open_cgroup);
    const dir = openDir(path);
    if (dir < 0) return @intCast(dir);
    const dir_fd: i32 = @intCast(dir);
    defer _ = linux.close(dir_fd);

    stage.* = @intFromEnum(Stage.query);
    var old_ids: [prog_ids_max]u32 = undefined;
    const old = query(dir_fd, &old_ids);
    if (old < 0) return @intCast(old);

    stage.* = @intFromEnum(Stage.load);
    const prog = load(build(rules, default_allow));
    if (prog < 0) return @intCast(prog);
    const prog_fd: i32 = @intCast(prog);
    defer _ = linux.close(prog_fd);

    stage.* = @intFromEnum(Stage.attach);
    const e = attachOrDetach(.prog_attach, dir_fd, prog_fd, BPF.F_ALLOW_MULTI);
    if (e != 0) return -@as(i32, e);

    stage.* = @intFromEnum(Stage.detach_old);
    for (old_ids[0..@intCast(old)]) |id| {
        const fd = progFdById(id);
        if (fd < 0) continue; // gone meanwhile
        defer _ = linux.close(@intCast(fd));
        const d = attachOrDetach(.prog_detach, dir_fd, @intCast(fd), 0);
        if (d != 0 and d != @intFromEnum(linux.E.NOENT)) return -@as(i32, d);
    }
    stage.* = @intFromEnum(Stage.none);
    return 0;
}

/// How many device programs are attached to the cgroup at `path` (-errno on failure).
pub fn attachedCount(path: [*:0]const u8) i32 {
    const dir = openDir(path);
    if (dir < 0) return @intCast(dir);
    defer _ = linux.close(@intCast(dir));
    var ids: [prog_ids_max]u32 = undefined;
    return @intCast(query(@intCast(dir), &ids));
}

test "a deny-all program is the default verdict and exit" {
    const prog = build(&.{}, false);
    try std.testing.expectEqual(@as(usize, 8), prog.len);
}

test "rule jumps land on the next rule" {
    const rules = [_]Rule{
        .{ .dev_type = 2, .access = 7, .flags = 3, .reserved = 0, .major = 1, .minor = 3 },
        .{ .dev_type = 2, .access = 2, .flags = 1, .reserved = 0, .major = 136, .minor = 0 },
    };
    const prog = build(&rules, false);
    // 6 setup + (1 + 1 + 1 + 2) + (1 + 3 + 1 + 2) + 2 final
    try std.testing.expectEqual(@as(usize, 6 + 5 + 7 + 2), prog.len);
    // The first rule's type check jumps over its 4 remaining instructions to index 11.
    try std.testing.expectEqual(@as(i16, 4), prog[6].off);
    try std.testing.expectEqual(@as(i16, 3), prog[7].off);
}
