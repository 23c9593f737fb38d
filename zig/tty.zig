//! Host-side terminal and fd-passing helpers for `exec`/`run` (zig/lib.zig exports them):
//! the socketpair a foreground terminal session receives the pty master on, SCM_RIGHTS send and
//! receive (console master, --pidfd-socket), window sizes, and raw mode on our own terminal.
//! Every function returns >= 0 or -errno; nothing here allocates.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");

const SCM_RIGHTS = 1;
/// CMSG_SPACE(sizeof(int)) on 64-bit: a 16-byte header and the int padded to 8.
const cmsg_space = 24;
/// CMSG_LEN(sizeof(int)).
const cmsg_len = 20;

fn neg(rc: usize) i32 {
    const e = linux.E.init(rc);
    if (e != .SUCCESS) return -@as(i32, @intCast(@intFromEnum(e)));
    return @intCast(rc);
}

fn negErr(e: linux.E) i32 {
    return -@as(i32, @intCast(@intFromEnum(e)));
}

/// A connected AF_UNIX stream pair, both ends close-on-exec.
pub fn socketpair(out: *[2]i32) i32 {
    return neg(linux.socketpair(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0, out));
}

const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;

/// A new pty from `ptmx` (a devpts instance's ptmx): out = {master, slave, pty number}, both fds
/// close-on-exec and neither a controlling terminal of ours. `restore` hands the slave to CRIU.
pub fn openPty(ptmx: [*:0]const u8, out: *[3]i32) i32 {
    const master = sys.open(ptmx, sys.O_RDWR | sys.O_NOCTTY) catch return -sys.last_errno;
    var unlock: i32 = 0;
    var ptn: u32 = 0;
    const got = blk: {
        _ = sys.check(linux.ioctl(master, TIOCSPTLCK, @intFromPtr(&unlock))) catch break :blk -sys.last_errno;
        _ = sys.check(linux.ioctl(master, TIOCGPTN, @intFromPtr(&ptn))) catch break :blk -sys.last_errno;
        const slave = sys.fd(linux.ioctl(master, TIOCGPTPEER, sys.O_RDWR | sys.O_NOCTTY | sys.O_CLOEXEC)) catch break :blk -sys.last_errno;
        out.* = .{ master, slave, @intCast(ptn) };
        break :blk 0;
    };
    if (got < 0) sys.close(master);
    return got;
}

/// Receives one fd sent with SCM_RIGHTS, waiting at most timeout_ms (-1: forever). The fd is
/// close-on-exec. The message bytes (the pty name) go to name_buf; name_len.* = their length.
/// 0 bytes with no fd (the peer closed) is -ENODATA; a message without an fd is -EBADMSG.
pub fn recvFd(sock: i32, timeout_ms: i32, name_buf: []u8, name_len: *u32) i32 {
    name_len.* = 0;
    var pfd = [_]linux.pollfd{.{ .fd = sock, .events = linux.POLL.IN, .revents = 0 }};
    const ready = sys.retry(linux.poll, .{ &pfd, 1, timeout_ms }) catch return -sys.last_errno;
    if (ready == 0) return negErr(.TIMEDOUT);
    var iov = [1]std.posix.iovec{.{ .base = name_buf.ptr, .len = name_buf.len }};
    var cbuf: [cmsg_space]u8 align(8) = std.mem.zeroes([cmsg_space]u8);
    var msg = linux.msghdr{ .name = null, .namelen = 0, .iov = &iov, .iovlen = 1, .control = &cbuf, .controllen = cbuf.len, .flags = 0 };
    const n = sys.retry(linux.recvmsg, .{ sock, &msg, linux.MSG.CMSG_CLOEXEC }) catch return -sys.last_errno;
    if (msg.controllen < cmsg_len) return if (n == 0) negErr(.NODATA) else negErr(.BADMSG);
    const level = std.mem.readInt(i32, cbuf[8..12], .little);
    const kind = std.mem.readInt(i32, cbuf[12..16], .little);
    if (level != linux.SOL.SOCKET or kind != SCM_RIGHTS) return negErr(.BADMSG);
    name_len.* = @intCast(n);
    return std.mem.readInt(i32, cbuf[16..20], .little);
}

/// Sends `fd` with SCM_RIGHTS and `name` as the message bytes (receivers read at least one).
pub fn sendFd(sock: i32, fd: i32, name: []const u8) i32 {
    sys.sendFd(sock, fd, name) catch return -sys.last_errno;
    return @intCast(name.len);
}

/// out = {rows, cols} of the terminal at fd.
pub fn getWinsize(fd: i32, out: *[2]u16) i32 {
    var ws = std.mem.zeroes(std.posix.winsize);
    const rc = neg(linux.ioctl(fd, linux.T.IOCGWINSZ, @intFromPtr(&ws)));
    if (rc < 0) return rc;
    out.* = .{ ws.row, ws.col };
    return 0;
}

pub fn setWinsize(fd: i32, rows: u16, cols: u16) i32 {
    const ws = std.posix.winsize{ .row = rows, .col = cols, .xpixel = 0, .ypixel = 0 };
    return neg(linux.ioctl(fd, linux.T.IOCSWINSZ, @intFromPtr(&ws)));
}

comptime {
    std.debug.assert(@sizeOf(linux.termios) <= saved_termios_size);
}

/// The caller's buffer for the terminal state raw mode replaces.
pub const saved_termios_size = 64;

/// Saves the terminal's settings into `saved` and switches it to raw mode (cfmakeraw's
/// settings): every byte, ^C and ^D included, goes to the container's pty untouched.
pub fn makeRaw(fd: i32, saved: *[saved_termios_size]u8) i32 {
    var t: linux.termios = undefined;
    const rc = neg(linux.tcgetattr(fd, &t));
    if (rc < 0) return rc;
    @memcpy(saved[0..@sizeOf(linux.termios)], std.mem.asBytes(&t));
    t.iflag.IGNBRK = false;
    t.iflag.BRKINT = false;
    t.iflag.PARMRK = false;
    t.iflag.ISTRIP = false;
    t.iflag.INLCR = false;
    t.iflag.IGNCR = false;
    t.iflag.ICRNL = false;
    t.iflag.IXON = false;
    t.oflag.OPOST = false;
    t.lflag.ECHO = false;
    t.lflag.ECHONL = false;
    t.lflag.ICANON = false;
    t.lflag.ISIG = false;
    t.lflag.IEXTEN = false;
    t.cflag.CSIZE = .CS8;
    t.cflag.PARENB = false;
    t.cc[@intFromEnum(linux.V.MIN)] = 1;
    t.cc[@intFromEnum(linux.V.TIME)] = 0;
    return neg(linux.tcsetattr(fd, .NOW, &t));
}

/// Puts back what makeRaw saved (after the output is drained).
pub fn restore(fd: i32, saved: *const [saved_termios_size]u8) i32 {
    var t: linux.termios = undefined;
    @memcpy(std.mem.asBytes(&t), saved[0..@sizeOf(linux.termios)]);
    return neg(linux.tcsetattr(fd, .DRAIN, &t));
}
