//! bunrunc-init: the in-container stage. Static, no libc, exec'd from a sealed memfd by the
//! library's clone3 child. argv = {"bunrunc-init", sync_fd, plan_fd}. It maps the plan, runs
//! its ops in order, and either execs the container process or reports the failing op on the
//! sync socket as {op_index, errno, detail} and exits 1.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");
const fs = @import("fs.zig");
const proc = @import("proc.zig");
const ns = @import("ns.zig");
const root = @import("root.zig");
const exec = @import("exec.zig");
const hook = @import("hook.zig");
const console = @import("console.zig");
const net = @import("net.zig");
const noms = @import("noms.zig");
const procfs = @import("procfs.zig");
const masks = @import("masks.zig");
const mount = @import("mount.zig");

pub const std_options: std.Options = .{ .keep_sigpipe = true };

pub fn main() u8 {
    const argv = std.os.argv;
    if (argv.len != 3) return usage();
    const sync_fd = sys.parseInt(argv[1]) orelse return usage();
    const plan_fd = sys.parseInt(argv[2]) orelse return usage();
    ctx.sync_fd = sync_fd;
    // Nothing the runtime's umask or signal state says applies in here.
    _ = sys.umask(0);
    sys.resetSignals();
    const PR_SET_DUMPABLE = 4;
    _ = linux.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    const bytes = mapPlan(plan_fd) catch {
        ctx.op_index = std.math.maxInt(u32);
        report(error.Sys);
    };
    procfs.init() catch {
        ctx.op_index = std.math.maxInt(u32);
        ctx.setDetail("open a private procfs", .{});
        report(error.Sys);
    };
    run(bytes) catch |e| report(e);
    // A plan always ends in Exec; reaching here means it did not.
    ctx.op_index = std.math.maxInt(u32);
    report(ctx.failWith("the plan has no exec step", .{}));
}

fn usage() u8 {
    const text = "bunrunc-init: run by bunrunc only\n";
    _ = linux.write(2, text, text.len);
    return 2;
}

fn mapPlan(fd: i32) sys.Errno![]const u8 {
    var st: linux.Stat = undefined;
    _ = try sys.check(linux.fstat(fd, &st));
    const size: usize = @intCast(st.size);
    if (size < plan.header_size or size > plan.bytes_max) return sys.fail(.INVAL);
    const addr = try sys.check(linux.mmap(null, size, linux.PROT.READ, .{ .TYPE = .PRIVATE }, fd, 0));
    sys.close(fd);
    return @as([*]const u8, @ptrFromInt(addr))[0..size];
}

/// Runs every op of the plan in order (pub for zig/init/dispatch_test.zig).
pub fn run(bytes: []const u8) ctx.Error!void {
    var it = try plan.Iterator.init(bytes);
    while (try it.next()) |op| {
        ctx.op_index = it.index - 1;
        ctx.op_kind = op.kind;
        var r = op.payload;
        try dispatch(op.kind, &r);
    }
}

fn dispatch(kind: plan.Op, r: *plan.Reader) ctx.Error!void {
    switch (kind) {
        .wait_parent => {
            const tag = try r.u32_();
            ctx.send(plan.Msg.wait, 0, @intCast(tag), "");
            ctx.awaitAck();
        },
        .setns_path => try ns.setnsPath(r),
        .setns_pidfd => try ns.setnsPidfd(r),
        .fork => try fork(),
        .unshare => try ns.unshare(r),
        .time_ns => try ns.timeNs(r),
        .root_propagation => try root.rootPropagation(r),
        .bind_rootfs => try root.bindRootfs(r),
        .mount => try mount.mount(r),
        .mknod => try fs.mknod(r),
        .symlink => try fs.symlink(r),
        .mkdir_all => try fs.mkdirPath(r),
        .pivot_root => try root.pivotRoot(),
        .move_root => try root.moveRoot(r),
        .mask_path => try masks.maskPath(r),
        .readonly_path => try masks.readonlyPath(r),
        .readonly_root => try root.readonlyRoot(),
        .sysctl => try fs.sysctl(r),
        .hostname => try proc.hostname(r),
        .domainname => try proc.domainname(r),
        .console => try console.console(r),
        .setsid => try proc.setsid(),
        .rlimit => try proc.rlimit(r),
        .new_keyring => try proc.newKeyring(r),
        .exec_attr => try proc.execAttr(r),
        .oom_score_adj => try proc.oomScoreAdj(r),
        .scheduler => try proc.scheduler(r),
        .io_priority => try proc.ioPriority(r),
        .personality => try proc.personality(r),
        .mem_policy => try proc.memPolicy(r),
        .cpu_affinity => try proc.cpuAffinity(r),
        .identity => try proc.identity(r),
        .chdir => try proc.chdir(r),
        .seccomp => try proc.seccomp(r),
        .resolve_exec => try exec.resolveExec(r),
        .report_created => exec.reportCreated(),
        .wait_start => try exec.waitStart(r),
        .run_hook => try hook.runHook(r),
        .exec => try exec.exec(),
        .keep_fds => try exec.keepFds(r),
        .non_dumpable => try proc.nonDumpable(),
        .loopback_up => try net.loopbackUp(),
        .bind_rootfs_private => try noms.bindRootfsPrivate(r),
        .chroot_rootfs => try noms.chrootRootfs(r),
        _ => return error.BadPlan,
    }
}

/// After joining a pid namespace by path: only children enter it. The child goes on with the
/// plan; this process reports the child's pid and leaves.
fn fork() ctx.Error!void {
    const rc = linux.fork();
    if (rc == 0) return;
    const pid = try sys.check(rc);
    ctx.send(plan.Msg.forked, 0, @intCast(pid), "");
    linux.exit_group(0);
}

fn report(e: ctx.Error) noreturn {
    const errno: i32 = switch (e) {
        error.Sys => sys.last_errno,
        else => 0,
    };
    const text: []const u8 = switch (e) {
        error.BadPlan, error.Truncated => "malformed plan (bunrunc and its init disagree)",
        else => ctx.detail,
    };
    if (ctx.reported) {
        // The runtime has gone after `create`: the container's stderr is all that is left.
        var buf: [700]u8 = undefined;
        const line = postStartLine(&buf, text, errno);
        _ = linux.write(2, line.ptr, line.len);
    } else {
        ctx.send(plan.Msg.failed, errno, 0, text);
    }
    linux.exit_group(if (ctx.reported) 127 else 1);
}

/// "bunrunc: <step>[: <detail>][: <strerror>]" for the container's stderr.
fn postStartLine(buf: []u8, text: []const u8, errno: i32) []const u8 {
    const step: []const u8 = switch (ctx.op_kind) {
        .run_hook => "startContainer hook",
        .seccomp => "load the seccomp filter",
        .exec => "exec the container process",
        else => @tagName(ctx.op_kind),
    };
    var w = std.io.fixedBufferStream(buf);
    const out = w.writer();
    out.print("bunrunc: {s}", .{step}) catch {};
    if (text.len > 0) out.print(": {s}", .{text}) catch {};
    if (errno != 0) out.print(": {s}", .{ctx.errText(errno)}) catch {};
    out.writeAll("\n") catch {};
    return w.getWritten();
}
