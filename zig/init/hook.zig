//! startContainer hooks: run inside the container after start, before the process is exec'd.
//! The state JSON goes to the hook's stdin; a non-zero exit or a timeout fails the start.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");

const Error = ctx.Error;

var argv: [ctx.argv_max + 1:null]?[*:0]const u8 = undefined;
var envp: [ctx.argv_max + 1:null]?[*:0]const u8 = undefined;

fn readList(r: *plan.Reader, out: *[ctx.argv_max + 1:null]?[*:0]const u8) Error!void {
    const n = try r.strsCount();
    for (0..n) |i| out[i] = (try r.str()).ptr;
    out[n] = null;
}

pub fn runHook(r: *plan.Reader) Error!void {
    const path = try r.str();
    try readList(r, &argv);
    try readList(r, &envp);
    const timeout_s = try r.u32_();
    const stdin = try r.bytes_();

    var pipe: [2]i32 = undefined;
    _ = try sys.check(linux.pipe2(&pipe, .{ .CLOEXEC = true }));
    const pid_rc = linux.fork();
    if (pid_rc == 0) {
        _ = linux.dup3(pipe[0], 0, 0);
        sys.resetSignals();
        _ = linux.execve(path, &argv, &envp);
        linux.exit_group(127);
    }
    sys.close(pipe[0]);
    const pid: i32 = @intCast(sys.check(pid_rc) catch |e| {
        sys.close(pipe[1]);
        return e;
    });
    // A hook that does not read its stdin must not fail the write.
    sys.writeAll(pipe[1], stdin) catch {};
    sys.close(pipe[1]);

    const pidfd = try sys.fd(linux.pidfd_open(pid, 0));
    defer sys.close(pidfd);
    var pfd = [_]linux.pollfd{.{ .fd = pidfd, .events = linux.POLL.IN, .revents = 0 }};
    const timeout_ms: i32 = if (timeout_s == 0) -1 else @intCast(@min(timeout_s, 86400) * 1000);
    const ready = try sys.retry(linux.poll, .{ &pfd, 1, timeout_ms });
    if (ready == 0) _ = linux.pidfd_send_signal(pidfd, linux.SIG.KILL, null, 0);
    var status: u32 = 0;
    _ = try sys.retry(linux.wait4, .{ pid, &status, 0, null });
    if (ready == 0) return ctx.failWith("{s}: timed out after {d}s", .{ path, timeout_s });
    if (linux.W.IFEXITED(status) and linux.W.EXITSTATUS(status) == 0) return;
    if (linux.W.IFEXITED(status)) return ctx.failWith("{s}: exit status {d}", .{ path, linux.W.EXITSTATUS(status) });
    return ctx.failWith("{s}: killed by signal {d}", .{ path, linux.W.TERMSIG(status) });
}
