//! The resident server's wire: one SOCK_SEQPACKET message carries a record and up to fds_max
//! descriptors (SCM_RIGHTS). Shared by the front (zig/front) and the server side of the FFI
//! library (zig/lib.zig). Received fds are close-on-exec. Nothing here allocates.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");

/// Enough for a spawn: 16 extra fds, 32 cgroup v1 tasks files, one cgroup dir.
pub const fds_max = 64;
const SCM_RIGHTS = 1;
const cmsg_header = 16;
const cmsg_space = cmsg_header + fds_max * 4;

/// Sends `bytes` (one message) with `fds` attached. Returns bytes.len or -errno.
pub fn send(sock: i32, bytes: []const u8, fds: []const i32) i32 {
    if (fds.len > fds_max) return -@as(i32, @intFromEnum(linux.E.INVAL));
    var iov = [1]std.posix.iovec_const{.{ .base = bytes.ptr, .len = bytes.len }};
    var cbuf: [cmsg_space]u8 align(8) = undefined;
    var msg = linux.msghdr_const{ .name = null, .namelen = 0, .iov = &iov, .iovlen = 1, .control = null, .controllen = 0, .flags = 0 };
    if (fds.len > 0) {
        const len = cmsg_header + fds.len * 4;
        std.mem.writeInt(u64, cbuf[0..8], len, .little);
        std.mem.writeInt(i32, cbuf[8..12], linux.SOL.SOCKET, .little);
        std.mem.writeInt(i32, cbuf[12..16], SCM_RIGHTS, .little);
        for (fds, 0..) |f, i| std.mem.writeInt(i32, cbuf[cmsg_header + i * 4 ..][0..4], f, .little);
        msg.control = &cbuf;
        // CMSG_SPACE: the data padded to 8.
        msg.controllen = @intCast(std.mem.alignForward(usize, len, 8));
    }
    const n = sys.retry(linux.sendmsg, .{ sock, &msg, linux.MSG.NOSIGNAL }) catch return -sys.last_errno;
    return @intCast(n);
}

/// Receives one message into `buf` and its fds into `fds` (nfds.* of them), waiting at most
/// timeout_ms (-1: forever). Returns the message length (0: the peer closed), -ETIMEDOUT, or
/// -errno. A message cut short (MSG_TRUNC/MSG_CTRUNC) is -EMSGSIZE, its fds closed.
pub fn recv(sock: i32, buf: []u8, fds: []i32, nfds: *u32, timeout_ms: i32) i32 {
    nfds.* = 0;
    if (timeout_ms >= 0) {
        var pfd = [_]linux.pollfd{.{ .fd = sock, .events = linux.POLL.IN, .revents = 0 }};
        const ready = sys.retry(linux.poll, .{ &pfd, 1, timeout_ms }) catch return -sys.last_errno;
        if (ready == 0) return -@as(i32, @intFromEnum(linux.E.TIMEDOUT));
    }
    var iov = [1]std.posix.iovec{.{ .base = buf.ptr, .len = buf.len }};
    var cbuf: [cmsg_space]u8 align(8) = std.mem.zeroes([cmsg_space]u8);
    var msg = linux.msghdr{ .name = null, .namelen = 0, .iov = &iov, .iovlen = 1, .control = &cbuf, .controllen = cbuf.len, .flags = 0 };
    const n = sys.retry(linux.recvmsg, .{ sock, &msg, linux.MSG.CMSG_CLOEXEC }) catch return -sys.last_errno;
    var got: u32 = 0;
    if (msg.controllen >= cmsg_header) {
        const len = std.mem.readInt(u64, cbuf[0..8], .little);
        const level = std.mem.readInt(i32, cbuf[8..12], .little);
        const kind = std.mem.readInt(i32, cbuf[12..16], .little);
        if (level == linux.SOL.SOCKET and kind == SCM_RIGHTS and len >= cmsg_header) {
            const count: u32 = @intCast(@min((len - cmsg_header) / 4, fds_max));
            var i: u32 = 0;
            while (i < count) : (i += 1) {
                const f = std.mem.readInt(i32, cbuf[cmsg_header + i * 4 ..][0..4], .little);
                if (i < fds.len) {
                    fds[i] = f;
                    got += 1;
                } else sys.close(f);
            }
        }
    }
    if (msg.flags & (linux.MSG.TRUNC | linux.MSG.CTRUNC) != 0 or got < countOf(&cbuf, msg.controllen)) {
        for (fds[0..got]) |f| sys.close(f);
        return -@as(i32, @intFromEnum(linux.E.MSGSIZE));
    }
    nfds.* = got;
    return @intCast(n);
}

fn countOf(cbuf: *const [cmsg_space]u8, controllen: usize) u32 {
    if (controllen < cmsg_header) return 0;
    const len = std.mem.readInt(u64, cbuf[0..8], .little);
    if (len < cmsg_header) return 0;
    return @intCast(@min((len - cmsg_header) / 4, fds_max));
}

/// SO_PEERCRED of a connected unix socket: out = {pid, uid, gid}.
pub fn peerCred(sock: i32, out: *[3]u32) i32 {
    var cred: extern struct { pid: i32, uid: u32, gid: u32 } = undefined;
    var len: u32 = @sizeOf(@TypeOf(cred));
    const SO_PEERCRED = 17;
    const rc = linux.getsockopt(sock, linux.SOL.SOCKET, SO_PEERCRED, @ptrCast(&cred), &len);
    if (linux.E.init(rc) != .SUCCESS) return -@as(i32, @intCast(@intFromEnum(linux.E.init(rc))));
    out.* = .{ @bitCast(cred.pid), cred.uid, cred.gid };
    return 0;
}

/// The abstract AF_UNIX address `name` (no leading NUL in `name`); returns the address length.
pub fn abstractAddr(name: []const u8, addr: *linux.sockaddr.un) ?u32 {
    addr.* = std.mem.zeroes(linux.sockaddr.un);
    addr.family = linux.AF.UNIX;
    if (name.len + 1 > addr.path.len) return null;
    @memcpy(addr.path[1 .. 1 + name.len], name);
    return @intCast(@offsetOf(linux.sockaddr.un, "path") + 1 + name.len);
}

/// A SOCK_SEQPACKET socket connected to the abstract address `name`, or -errno
/// (-ECONNREFUSED: nobody listens there).
pub fn connectAbstract(name: []const u8) i32 {
    var addr: linux.sockaddr.un = undefined;
    const len = abstractAddr(name, &addr) orelse return -@as(i32, @intFromEnum(linux.E.NAMETOOLONG));
    const s = sys.fd(linux.socket(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC, 0)) catch return -sys.last_errno;
    _ = sys.retry(linux.connect, .{ s, @as(*const anyopaque, @ptrCast(&addr)), len }) catch {
        sys.close(s);
        return -sys.last_errno;
    };
    return s;
}

/// A SOCK_SEQPACKET socket bound to the abstract address `name` (listening when backlog > 0),
/// or -errno (-EADDRINUSE: another process holds the name).
pub fn bindAbstract(name: []const u8, backlog: u32) i32 {
    var addr: linux.sockaddr.un = undefined;
    const len = abstractAddr(name, &addr) orelse return -@as(i32, @intFromEnum(linux.E.NAMETOOLONG));
    const s = sys.fd(linux.socket(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC, 0)) catch return -sys.last_errno;
    _ = sys.check(linux.bind(s, @ptrCast(&addr), len)) catch {
        sys.close(s);
        return -sys.last_errno;
    };
    if (backlog > 0) {
        _ = sys.check(linux.listen(s, backlog)) catch {
            sys.close(s);
            return -sys.last_errno;
        };
    }
    return s;
}

/// Waits at most timeout_ms for a connection; returns it (close-on-exec), -ETIMEDOUT or -errno.
pub fn accept(listener: i32, timeout_ms: i32) i32 {
    var pfd = [_]linux.pollfd{.{ .fd = listener, .events = linux.POLL.IN, .revents = 0 }};
    const ready = sys.retry(linux.poll, .{ &pfd, 1, timeout_ms }) catch return -sys.last_errno;
    if (ready == 0) return -@as(i32, @intFromEnum(linux.E.TIMEDOUT));
    const s = sys.retry(linux.accept4, .{ listener, null, null, linux.SOCK.CLOEXEC }) catch return -sys.last_errno;
    return @intCast(s);
}

/// Raises a socket's send buffer (as root, past wmem_max) after a send failed with EMSGSIZE: a
/// spawn record carries the whole plan, seccomp program included, in one message. Only called
/// when needed: setting it lower than the default would shrink it.
pub fn growSendBuffer(sock: i32, bytes: u32) void {
    const SO_SNDBUFFORCE = 32;
    const SO_SNDBUF = 7;
    var v: i32 = @intCast(bytes);
    const rc = linux.setsockopt(sock, linux.SOL.SOCKET, SO_SNDBUFFORCE, std.mem.asBytes(&v), 4);
    if (linux.E.init(rc) != .SUCCESS) _ = linux.setsockopt(sock, linux.SOL.SOCKET, SO_SNDBUF, std.mem.asBytes(&v), 4);
}
