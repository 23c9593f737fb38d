//! Network ops: a network namespace the runtime creates starts with its loopback device down,
//! and programs expect 127.0.0.1 to answer, so the init brings `lo` up as runc does. The
//! kernel gives an up loopback device 127.0.0.1/8 (and ::1) itself.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const ctx = @import("ctx.zig");

const Error = ctx.Error;

/// (no payload) SIOCGIFFLAGS then SIOCSIFFLAGS with IFF_UP on "lo", through a datagram socket
/// of the container's namespace (any socket reaches the device ioctls; AF_INET is the classic one).
pub fn loopbackUp() Error!void {
    const sock = sys.fd(linux.socket(linux.AF.INET, linux.SOCK.DGRAM | linux.SOCK.CLOEXEC, 0)) catch |e| {
        ctx.setDetail("open a socket to configure lo", .{});
        return e;
    };
    defer sys.close(sock);
    var req = std.mem.zeroes(linux.ifreq);
    const name = "lo";
    comptime std.debug.assert(name.len < linux.IFNAMESIZE);
    @memcpy(req.ifrn.name[0..name.len], name);
    _ = sys.check(linux.ioctl(sock, linux.SIOCGIFFLAGS, @intFromPtr(&req))) catch |e| {
        ctx.setDetail("read the flags of lo", .{});
        return e;
    };
    if (req.ifru.flags.UP) return;
    req.ifru.flags.UP = true;
    _ = sys.check(linux.ioctl(sock, linux.SIOCSIFFLAGS, @intFromPtr(&req))) catch |e| {
        ctx.setDetail("set lo up", .{});
        return e;
    };
}
