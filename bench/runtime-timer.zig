//! The bench's runtime timer: an engine execs this in place of its OCI runtime, and it runs the
//! runtime (the path in "<its own path>.target") with the same argv, environment and fds, waits
//! for it, and appends one line "<wall µs> <argv[1..]>" to "<its own path>.log" — so the bench can
//! name the runtime's share of an engine's `run --rm` (bench/cases-engines.ts). It exits as the
//! runtime did (its status, or 128 + the signal). Static, no libc, no allocation; the fork and
//! exec it adds (~0.3 ms per call) are outside the times it logs.
const std = @import("std");
const linux = std.os.linux;

var self_buf: [linux.PATH_MAX]u8 = undefined;
var path_buf: [linux.PATH_MAX + 16]u8 = undefined;
var target_buf: [linux.PATH_MAX + 1]u8 = undefined;
var line_buf: [1024]u8 = undefined;

pub fn main() noreturn {
    const self_len = linux.readlink("/proc/self/exe", &self_buf, self_buf.len - 1);
    if (linux.E.init(self_len) != .SUCCESS) die("readlink /proc/self/exe failed\n");
    const self = self_buf[0..self_len];
    const target = readTarget(self);

    var t0: linux.timespec = undefined;
    _ = linux.clock_gettime(.MONOTONIC, &t0);
    const pid = linux.fork();
    if (linux.E.init(pid) != .SUCCESS) die("fork failed\n");
    if (pid == 0) {
        const argv: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.argv.ptr);
        const envp: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.environ.ptr);
        _ = linux.execve(target, argv, envp);
        die("exec of the target runtime failed\n");
    }
    var status: u32 = 0;
    while (true) {
        const rc = linux.wait4(@intCast(pid), &status, 0, null);
        if (linux.E.init(rc) != .INTR) break;
    }
    var t1: linux.timespec = undefined;
    _ = linux.clock_gettime(.MONOTONIC, &t1);
    const us = @divTrunc((t1.sec - t0.sec) * std.time.ns_per_s + (t1.nsec - t0.nsec), std.time.ns_per_us);
    logLine(self, us);
    if (linux.W.IFEXITED(status)) linux.exit_group(linux.W.EXITSTATUS(status));
    linux.exit_group(128 + @as(i32, @intCast(linux.W.TERMSIG(status))));
}

/// The runtime to run: the first line of "<self>.target".
fn readTarget(self: []const u8) [:0]const u8 {
    const path = suffixed(self, ".target");
    const fd = linux.open(path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0);
    if (linux.E.init(fd) != .SUCCESS) die("cannot open <self>.target\n");
    defer _ = linux.close(@intCast(fd));
    const n = linux.read(@intCast(fd), &target_buf, target_buf.len - 1);
    if (linux.E.init(n) != .SUCCESS or n == 0) die("cannot read <self>.target\n");
    var len: usize = n;
    if (std.mem.indexOfScalar(u8, target_buf[0..n], '\n')) |nl| len = nl;
    target_buf[len] = 0;
    return target_buf[0..len :0];
}

fn suffixed(self: []const u8, suffix: []const u8) [:0]const u8 {
    std.debug.assert(self.len + suffix.len < path_buf.len);
    @memcpy(path_buf[0..self.len], self);
    @memcpy(path_buf[self.len..][0..suffix.len], suffix);
    path_buf[self.len + suffix.len] = 0;
    return path_buf[0 .. self.len + suffix.len :0];
}

/// One write with O_APPEND, so concurrent calls' lines never interleave.
fn logLine(self: []const u8, us: i64) void {
    const head = std.fmt.bufPrint(&line_buf, "{d}", .{us}) catch return;
    var at = head.len;
    for (std.os.argv[1..]) |arg| {
        const s = std.mem.span(arg);
        if (at + 1 + s.len + 1 > line_buf.len) break;
        line_buf[at] = ' ';
        @memcpy(line_buf[at + 1 ..][0..s.len], s);
        at += 1 + s.len;
    }
    line_buf[at] = '\n';
    const path = suffixed(self, ".log");
    const fd = linux.open(path, .{ .ACCMODE = .WRONLY, .APPEND = true, .CREAT = true, .CLOEXEC = true }, 0o644);
    if (linux.E.init(fd) != .SUCCESS) return;
    _ = linux.write(@intCast(fd), &line_buf, at + 1);
    _ = linux.close(@intCast(fd));
}

fn die(msg: []const u8) noreturn {
    _ = linux.write(2, msg.ptr, msg.len);
    linux.exit_group(125);
}
