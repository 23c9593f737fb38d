//! process.terminal: a pty from the container's own devpts; the master goes to the
//! --console-socket with SCM_RIGHTS (what conmon and containerd's shim receive), the slave
//! becomes stdio and the controlling terminal of a new session.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");

const TIOCSCTTY = 0x540E;
const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;

pub fn console(r: *plan.Reader) ctx.Error!void {
    const socket = try r.i32_();
    const rows = try r.u32_();
    const cols = try r.u32_();
    const master = sys.open("/dev/ptmx", sys.O_RDWR | sys.O_NOCTTY) catch |e| {
        ctx.setDetail("open /dev/ptmx", .{});
        return e;
    };
    defer sys.close(master);
    var unlock: i32 = 0;
    _ = try sys.check(linux.ioctl(master, TIOCSPTLCK, @intFromPtr(&unlock)));
    var ptn: u32 = 0;
    _ = try sys.check(linux.ioctl(master, TIOCGPTN, @intFromPtr(&ptn)));
    const slave = try sys.fd(linux.ioctl(master, TIOCGPTPEER, sys.O_RDWR | sys.O_NOCTTY | sys.O_CLOEXEC));
    if (rows != 0 or cols != 0) {
        const ws = extern struct { row: u16, col: u16, xpixel: u16, ypixel: u16 }{ .row = @truncate(rows), .col = @truncate(cols), .xpixel = 0, .ypixel = 0 };
        _ = try sys.check(linux.ioctl(master, TIOCSWINSZ, @intFromPtr(&ws)));
    }
    var name_buf: [32]u8 = undefined;
    const name = std.fmt.bufPrint(&name_buf, "/dev/pts/{d}", .{ptn}) catch unreachable;
    sys.sendFd(socket, master, name) catch |e| {
        ctx.setDetail("send the pty master to the console socket", .{});
        return e;
    };
    sys.close(socket);
    _ = try sys.check(linux.syscall0(.setsid));
    _ = try sys.check(linux.ioctl(slave, TIOCSCTTY, 0));
    for (0..3) |i| _ = try sys.check(linux.dup3(slave, @intCast(i), 0));
    sys.close(slave);
}

