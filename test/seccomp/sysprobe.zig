//! sysprobe: makes raw syscalls inside a test container and prints what the kernel returned,
//! one line per call: "<label> <return value or -errno>". Built by test/seccomp/container.test.ts.
//!   sysprobe <label> <nr> [arg0 .. arg5] [-- <label> <nr> [args] ...]
//!   nr "fork:<flags>" clones with <flags>|SIGCHLD; the child exits at once, the parent reaps it.
//!   nr "loop:<count>:<nr>" makes syscall <nr> <count> times and prints the mean ns per call
//!   (the per-syscall cost of a filter, for benchmarks).
const std = @import("std");
const linux = std.os.linux;

fn parse(s: []const u8) u64 {
    if (std.mem.startsWith(u8, s, "0x")) return std.fmt.parseInt(u64, s[2..], 16) catch @panic("bad number");
    return std.fmt.parseInt(u64, s, 10) catch @panic("bad number");
}

fn call(nr_text: []const u8, a: [6]u64) isize {
    if (std.mem.startsWith(u8, nr_text, "fork:")) {
        const flags = parse(nr_text[5..]) | linux.SIG.CHLD;
        const rc: isize = @bitCast(linux.syscall5(.clone, flags, 0, 0, 0, 0));
        if (rc == 0) linux.exit(0);
        var status: u32 = 0;
        if (rc > 0) _ = linux.waitpid(@intCast(rc), &status, 0);
        return rc;
    }
    if (std.mem.startsWith(u8, nr_text, "loop:")) return loop(nr_text[5..], a);
    const nr: linux.SYS = @enumFromInt(parse(nr_text));
    return @bitCast(linux.syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

fn nowNs() u64 {
    var ts: linux.timespec = undefined;
    _ = linux.clock_gettime(.MONOTONIC, &ts);
    return @as(u64, @intCast(ts.sec)) * std.time.ns_per_s + @as(u64, @intCast(ts.nsec));
}

fn loop(spec: []const u8, a: [6]u64) isize {
    var it = std.mem.splitScalar(u8, spec, ':');
    const count = parse(it.next() orelse @panic("loop:<count>:<nr>"));
    const nr: linux.SYS = @enumFromInt(parse(it.next() orelse @panic("loop:<count>:<nr>")));
    const start = nowNs();
    var i: u64 = 0;
    while (i < count) : (i += 1) _ = linux.syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    return @intCast((nowNs() - start) / @max(count, 1));
}

pub fn main() void {
    const argv = std.os.argv;
    var i: usize = 1;
    var buf: [128]u8 = undefined;
    while (i + 1 < argv.len) {
        const label = std.mem.span(argv[i]);
        const nr = std.mem.span(argv[i + 1]);
        var args = [_]u64{0} ** 6;
        var n: usize = 0;
        i += 2;
        while (i < argv.len and !std.mem.eql(u8, std.mem.span(argv[i]), "--")) : (i += 1) {
            args[n] = parse(std.mem.span(argv[i]));
            n += 1;
        }
        i += 1;
        const line = std.fmt.bufPrint(&buf, "{s} {d}\n", .{ label, call(nr, args) }) catch unreachable;
        _ = linux.write(1, line.ptr, line.len);
    }
}
