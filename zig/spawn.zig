//! clone3 + sealed init: the only code of the library that runs in the new process.
//! The child is a copy of one Bun thread: it must not allocate, lock, or touch anything Bun
//! owns. It moves the fds the init needs into place, marks every other fd close-on-exec, and
//! execs bunrunc-init from a sealed memfd, so the host binary is never /proc/self/exe of
//! anything in the container (CVE-2019-5736).
//!
//! fd layout in the init (K = keep_below = 3 + kept fds):
//!   0-2 stdio, 3..K-1 kept (--preserve-fds, LISTEN_FDS), K..K+n-1 the caller's extra fds in
//!   order, then the sync socket, then the plan memfd. argv = {"bunrunc-init", sync, plan}.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");

const init_elf = @embedFile("init_elf");

pub const extra_fds_max = 16;
/// One fd per cgroup v1 hierarchy (a host mounts about a dozen).
pub const join_fds_max = 32;

pub const Result = extern struct { pid: i32, pidfd: i32, sync_fd: i32, step: i32 };

/// Which parent-side step failed (Result.step), for the runtime's error line.
pub const Step = enum(i32) { none = 0, plan_memfd = 1, init_memfd = 2, socketpair = 3, clone3 = 4, args = 5 };

const MFD_CLOEXEC: u32 = 0x1;
const MFD_ALLOW_SEALING: u32 = 0x2;
const MFD_EXEC: u32 = 0x10;
const F_ADD_SEALS: i32 = 1033;
const F_DUPFD_CLOEXEC: i32 = 1030;
const F_SEAL_ALL: usize = 0x1 | 0x2 | 0x4 | 0x8; // SEAL, SHRINK, GROW, WRITE
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_INTO_CGROUP: u64 = 0x200000000;

/// The sealed init memfd, made once per process (library users spawn many containers).
var init_fd: i32 = -1;

fn sealedMemfd(name: [*:0]const u8, bytes: []const u8, exec: bool) sys.Errno!i32 {
    const base = MFD_CLOEXEC | MFD_ALLOW_SEALING;
    var f = linux.memfd_create(name, base | if (exec) MFD_EXEC else 0);
    // Kernels before 6.3 do not know MFD_EXEC.
    if (exec and linux.E.init(f) == .INVAL) f = linux.memfd_create(name, base);
    const memfd = try sys.fd(f);
    errdefer sys.close(memfd);
    try sys.writeAll(memfd, bytes);
    _ = try sys.check(linux.fcntl(memfd, F_ADD_SEALS, F_SEAL_ALL));
    return memfd;
}

fn initMemfd() sys.Errno!i32 {
    if (init_fd < 0) init_fd = try sealedMemfd("bunrunc-init", init_elf, true);
    return init_fd;
}

pub const Request = struct {
    plan: []const u8,
    clone_flags: u64,
    keep_below: u32,
    extra_fds: []const i32,
    wait_for_parent: bool,
    cgroup_fd: i32,
    /// cgroup v1 `tasks` files opened O_WRONLY by the runtime: the child writes "0" to each,
    /// moving itself. A task moving itself skips the kernel's global threadgroup lock (an RCU
    /// grace period, 5-15 ms) that writing its pid to cgroup.procs from the parent pays.
    cgroup_join_fds: []const i32,
};

pub fn spawn(req: Request, out: *Result) void {
    out.* = .{ .pid = -1, .pidfd = -1, .sync_fd = -1, .step = @intFromEnum(Step.none) };
    if (req.extra_fds.len > extra_fds_max or req.cgroup_join_fds.len > join_fds_max or req.keep_below < 3 or req.keep_below > 1024) {
        out.step = @intFromEnum(Step.args);
        sys.last_errno = @intFromEnum(linux.E.INVAL);
        return;
    }
    const exe = initMemfd() catch return fail(out, .init_memfd);
    const plan_fd = sealedMemfd("bunrunc-plan", req.plan, false) catch return fail(out, .plan_memfd);
    defer sys.close(plan_fd);
    var pair: [2]i32 = undefined;
    _ = sys.check(linux.socketpair(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC, 0, &pair)) catch return fail(out, .socketpair);

    const n: u32 = @intCast(req.extra_fds.len);
    const sync_target = req.keep_below + n;
    var sync_buf: [16]u8 = undefined;
    var plan_buf: [16]u8 = undefined;
    const argv = [_:null]?[*:0]const u8{ "bunrunc-init", sys.fmtInt(&sync_buf, sync_target), sys.fmtInt(&plan_buf, sync_target + 1) };
    var sources: [extra_fds_max + 3]i32 = undefined;
    @memcpy(sources[0..n], req.extra_fds);
    sources[n] = pair[1];
    sources[n + 1] = plan_fd;
    sources[n + 2] = exe;

    var pidfd: i32 = -1;
    var args = std.mem.zeroes(sys.CloneArgs);
    args.flags = req.clone_flags | CLONE_PIDFD;
    args.pidfd = @intFromPtr(&pidfd);
    args.exit_signal = linux.SIG.CHLD;
    if (req.cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = @intCast(req.cgroup_fd);
    }

    // No JS signal handler may run in the child (FINDINGS.md #2); the init resets the mask.
    var old_mask: linux.sigset_t = undefined;
    sys.blockAll(&old_mask);
    const rc = sys.clone3(&args);
    if (rc == 0) child(sources[0 .. n + 3], pair, req.keep_below, req.wait_for_parent, req.cgroup_join_fds, &argv);
    sys.setMask(&old_mask);
    sys.close(pair[1]);
    _ = sys.check(rc) catch {
        sys.close(pair[0]);
        return fail(out, .clone3);
    };
    out.* = .{ .pid = @intCast(rc), .pidfd = pidfd, .sync_fd = pair[0], .step = 0 };
}

fn fail(out: *Result, step: Step) void {
    out.step = @intFromEnum(step);
}

/// In the clone3 child. `sources`: extra fds, sync, plan, init exe (last, not placed).
fn child(sources: []i32, pair: [2]i32, keep_below: u32, wait_for_parent: bool, join_fds: []const i32, argv: [*:null]const ?[*:0]const u8) noreturn {
    const sync_orig = pair[1];
    // The parent's end, first: while we hold a copy, the parent's death is no EOF on ours, and
    // the wait below (or the init's, had it inherited it) would never end.
    sys.close(pair[0]);
    for (join_fds) |fd| {
        const rc = linux.write(fd, "0", 1);
        if (linux.E.init(rc) != .SUCCESS) childDie(sync_orig, rc, "join the container's cgroup");
    }
    // Our own fds may sit in a kept slot the caller left closed (3..keep_below-1): those are
    // closed below rather than handed to the container with the caller's.
    var own: [extra_fds_max + 3 + join_fds_max]i32 = undefined;
    var own_len: usize = 0;
    for (sources) |s| own_len = addOwn(&own, own_len, s);
    for (join_fds) |f| own_len = addOwn(&own, own_len, f);
    const placed: u32 = @intCast(sources.len - 1);
    const end = keep_below + placed;
    // Two passes, so a source already sitting in the target range is never overwritten.
    for (sources) |*s| {
        const rc = linux.fcntl(s.*, F_DUPFD_CLOEXEC, end);
        if (linux.E.init(rc) != .SUCCESS) childDie(sync_orig, rc, "start bunrunc-init");
        s.* = @intCast(rc);
    }
    for (sources[0..placed], 0..) |s, i| {
        const rc = linux.dup3(s, @intCast(keep_below + i), 0);
        if (linux.E.init(rc) != .SUCCESS) childDie(sync_orig, rc, "start bunrunc-init");
    }
    var kept: i32 = 3;
    while (kept < keep_below) : (kept += 1) {
        if (std.mem.indexOfScalar(i32, own[0..own_len], kept) != null) {
            sys.close(kept);
        } else {
            _ = linux.fcntl(kept, linux.F.SETFD, 0);
        }
    }
    _ = sys.closeRange(end, std.math.maxInt(u32), sys.CLOSE_RANGE_CLOEXEC);
    const sync_fd: i32 = @intCast(keep_below + placed - 2);
    if (wait_for_parent) {
        // EOF (the parent died before it wrote the maps) ends us like an abort byte does.
        var ack: [1]u8 = .{1};
        const got = linux.read(sync_fd, &ack, 1);
        if (got != 1 or ack[0] != 0) linux.exit_group(1);
        // Become the namespace's root where the maps have one: exec keeps full capabilities
        // only for uid 0 of the user namespace (our host uid is usually unmapped in it).
        _ = sys.setresgid(0);
        _ = linux.setresuid(0, 0, 0);
    }
    const envp = [_:null]?[*:0]const u8{};
    const rc = sys.execveat(sources[placed], "", argv, &envp, sys.AT_EMPTY_PATH);
    childDie(sync_orig, rc, "start bunrunc-init");
}

fn addOwn(own: []i32, len: usize, fd: i32) usize {
    std.debug.assert(len < own.len);
    own[len] = fd;
    return len + 1;
}

/// Tells the runtime why the init could not start (op_index all ones: before the plan's ops).
fn childDie(sync_orig: i32, rc: usize, comptime text: []const u8) noreturn {
    var msg = std.mem.zeroes(plan.Msg);
    msg.kind = plan.Msg.failed;
    msg.op_index = std.math.maxInt(u32);
    msg.errno = @intCast(@intFromEnum(linux.E.init(rc)));
    @memcpy(msg.text[0..text.len], text);
    _ = linux.sendto(sync_orig, std.mem.asBytes(&msg), @sizeOf(plan.Msg), linux.MSG.NOSIGNAL, null, 0);
    linux.exit_group(127);
}
