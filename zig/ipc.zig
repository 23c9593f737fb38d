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

/// A filesystem AF_UNIX address; null when the path does not fit sun_path.
fn pathAddr(path: []const u8, addr: *linux.sockaddr.un) ?u32 {
    addr.* = std.mem.zeroes(linux.sockaddr.un);
    addr.family = linux.AF.UNIX;
    if (path.len == 0 or path.len + 1 > addr.path.len) return null;
    @memcpy(addr.path[0..path.len], path);
    return @intCast(@offsetOf(linux.sockaddr.un, "path") + path.len + 1);
}

/// A SOCK_SEQPACKET socket connected to the socket file at `path`, or -errno (-ENOENT: no
/// file, -ECONNREFUSED: a stale file nobody listens on, -EAGAIN: its backlog is full — the
/// connect never waits for a server that is not accepting).
pub fn connectPath(path: []const u8) i32 {
    var addr: linux.sockaddr.un = undefined;
    const len = pathAddr(path, &addr) orelse return -@as(i32, @intFromEnum(linux.E.NAMETOOLONG));
    const s = sys.fd(linux.socket(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC | linux.SOCK.NONBLOCK, 0)) catch return -sys.last_errno;
    _ = sys.retry(linux.connect, .{ s, @as(*const anyopaque, @ptrCast(&addr)), len }) catch {
        sys.close(s);
        return -sys.last_errno;
    };
    // Blocking from here on: sends wait for room, receives are bounded by poll.
    const flags = linux.fcntl(s, linux.F.GETFL, 0);
    _ = linux.fcntl(s, linux.F.SETFL, flags & ~@as(usize, 0o4000));
    return s;
}

/// A listening SOCK_SEQPACKET socket bound at `path` (a file left there is replaced: the
/// caller holds the lock that makes it the only server for the path), or -errno.
pub fn listenPath(path: [*:0]const u8, backlog: u32) i32 {
    var addr: linux.sockaddr.un = undefined;
    const len = pathAddr(std.mem.span(path), &addr) orelse return -@as(i32, @intFromEnum(linux.E.NAMETOOLONG));
    const s = sys.fd(linux.socket(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC, 0)) catch return -sys.last_errno;
    _ = linux.unlink(path);
    // The socket file is created 0600 whatever the process's umask (its directory is 0700 too).
    const old_mask = sys.umask(0o177);
    const bound = linux.bind(s, @ptrCast(&addr), len);
    _ = sys.umask(@intCast(old_mask));
    _ = sys.check(bound) catch {
        sys.close(s);
        return -sys.last_errno;
    };
    _ = sys.check(linux.listen(s, @intCast(backlog))) catch {
        sys.close(s);
        return -sys.last_errno;
    };
    return s;
}

/// SO_PEERPIDFD (Linux 6.5+): a pidfd of the process that made the peer socket (connect() for
/// a client, listen() for a server): the peer's identity, immune to pid reuse. -ENOPROTOOPT on
/// older kernels.
pub fn peerPidfd(sock: i32) i32 {
    const SO_PEERPIDFD = 77;
    var f: i32 = -1;
    var len: u32 = @sizeOf(i32);
    const rc = linux.getsockopt(sock, linux.SOL.SOCKET, SO_PEERPIDFD, @ptrCast(&f), &len);
    if (linux.E.init(rc) != .SUCCESS) return -@as(i32, @intCast(@intFromEnum(linux.E.init(rc))));
    if (f < 0) return -@as(i32, @intFromEnum(linux.E.SRCH));
    _ = linux.fcntl(f, linux.F.SETFD, linux.FD_CLOEXEC);
    return f;
}

/// Whether this kernel gives SO_PEERPIDFD (asked on a socketpair of our own).
pub fn peerPidfdSupported() bool {
    var pair: [2]i32 = undefined;
    if (linux.E.init(linux.socketpair(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC, 0, &pair)) != .SUCCESS) return false;
    defer sys.close(pair[0]);
    defer sys.close(pair[1]);
    const f = peerPidfd(pair[0]);
    if (f < 0) return false;
    sys.close(f);
    return true;
}

/// The pid a pidfd refers to, as this process's pid namespace sees it ("Pid:" in its fdinfo):
/// > 0, or null (exited: -1, not visible from here: 0, or unreadable).
pub fn pidOfPidfd(pidfd: i32) ?i32 {
    var path_buf: [48]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "/proc/self/fdinfo/{d}", .{pidfd}) catch return null;
    const f = sys.fd(sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_CLOEXEC, 0)) catch return null;
    defer sys.close(f);
    var text: [512]u8 = undefined;
    const n = sys.retry(linux.read, .{ f, &text, text.len }) catch return null;
    const key = "\nPid:\t";
    const at = std.mem.indexOf(u8, text[0..n], key) orelse return null;
    var v: i64 = 0;
    var i = at + key.len;
    if (i < n and text[i] == '-') return null;
    while (i < n and text[i] >= '0' and text[i] <= '9') : (i += 1) {
        v = v * 10 + (text[i] - '0');
        if (v > std.math.maxInt(i32)) return null;
    }
    if (v <= 0) return null;
    return @intCast(v);
}

/// Whether the process behind a pidfd is still running (its pidfd is not yet readable).
pub fn pidfdAlive(pidfd: i32) bool {
    var pfd = [_]linux.pollfd{.{ .fd = pidfd, .events = linux.POLL.IN, .revents = 0 }};
    const ready = sys.retry(linux.poll, .{ &pfd, 1, 0 }) catch return false;
    return ready == 0;
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
