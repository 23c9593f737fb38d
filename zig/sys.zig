//! Raw Linux syscalls the library and the init share, as `Errno!usize` so every failure carries
//! its errno up to the sync record. No libc, no allocation.
const std = @import("std");
const linux = std.os.linux;

pub const Errno = error{Sys};

/// The errno of the last failed call. The init is single-threaded; the library is only called
/// from the JS thread and reads it right after the failing call.
pub var last_errno: i32 = 0;

pub fn check(rc: usize) Errno!usize {
    const e = linux.E.init(rc);
    if (e != .SUCCESS) {
        last_errno = @intCast(@intFromEnum(e));
        return error.Sys;
    }
    return rc;
}

/// Same, retrying EINTR (blocking reads, waits and polls).
pub fn retry(comptime f: anytype, args: anytype) Errno!usize {
    while (true) {
        const rc = @call(.auto, f, args);
        if (linux.E.init(rc) == .INTR) continue;
        return check(rc);
    }
}

pub fn fail(errno: linux.E) Errno {
    last_errno = @intCast(@intFromEnum(errno));
    return error.Sys;
}

pub fn fd(rc: usize) Errno!i32 {
    return @intCast(try check(rc));
}

pub fn close(f: i32) void {
    _ = linux.close(f);
}

// Syscalls std.os.linux does not wrap in 0.14.

pub const CloneArgs = extern struct {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
};

pub fn clone3(args: *const CloneArgs) usize {
    return linux.syscall2(.clone3, @intFromPtr(args), @sizeOf(CloneArgs));
}

pub const OpenHow = extern struct { flags: u64, mode: u64, resolve: u64 };
pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

pub fn openat2(dirfd: i32, path: [*:0]const u8, how: *const OpenHow) usize {
    return linux.syscall4(.openat2, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), @intFromPtr(how), @sizeOf(OpenHow));
}

pub const MountAttr = extern struct { attr_set: u64, attr_clr: u64, propagation: u64, userns_fd: u64 };
pub const AT_RECURSIVE: u32 = 0x8000;

pub fn mountSetattr(dirfd: i32, path: [*:0]const u8, flags: u32, attr: *const MountAttr) usize {
    return linux.syscall5(.mount_setattr, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), flags, @intFromPtr(attr), @sizeOf(MountAttr));
}

// The new mount API: a mount is built or cloned detached, shaped through its fd, then attached
// onto a target fd, so no path is resolved twice (the CVE-2021-30465 race class).
pub const OPEN_TREE_CLONE: u32 = 1;
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x04;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
pub const FSCONFIG_SET_FLAG: u32 = 0;
pub const FSCONFIG_SET_STRING: u32 = 1;
pub const FSCONFIG_CMD_CREATE: u32 = 6;
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;

pub fn openTree(dirfd: i32, path: [*:0]const u8, flags: u32) usize {
    return linux.syscall3(.open_tree, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), flags | O_CLOEXEC);
}

pub fn moveMount(from_fd: i32, from: [*:0]const u8, to_fd: i32, to: [*:0]const u8, flags: u32) usize {
    return linux.syscall5(.move_mount, @as(usize, @bitCast(@as(isize, from_fd))), @intFromPtr(from), @as(usize, @bitCast(@as(isize, to_fd))), @intFromPtr(to), flags);
}

pub fn fsopen(fstype: [*:0]const u8) usize {
    const FSOPEN_CLOEXEC = 1;
    return linux.syscall2(.fsopen, @intFromPtr(fstype), FSOPEN_CLOEXEC);
}

pub fn fsconfig(f: i32, cmd: u32, key: ?[*:0]const u8, value: ?[*:0]const u8) usize {
    return linux.syscall5(.fsconfig, @as(usize, @bitCast(@as(isize, f))), cmd, @intFromPtr(key), @intFromPtr(value), 0);
}

pub fn fsmount(f: i32, attr: u64) usize {
    const FSMOUNT_CLOEXEC = 1;
    return linux.syscall3(.fsmount, @as(usize, @bitCast(@as(isize, f))), FSMOUNT_CLOEXEC, attr);
}

pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
pub const SYSFS_MAGIC: u64 = 0x62656572;

/// The filesystem magic (statfs f_type) of what `f` refers to.
pub fn fsMagic(f: i32) Errno!u64 {
    // struct statfs is 15 words on x86_64 and aarch64; f_type is word 0.
    var st: [16]u64 = undefined;
    _ = try check(linux.syscall2(.fstatfs, @as(usize, @bitCast(@as(isize, f))), @intFromPtr(&st)));
    return st[0];
}

pub fn execveat(dirfd: i32, path: [*:0]const u8, argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8, flags: u32) usize {
    return linux.syscall5(.execveat, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), @intFromPtr(argv), @intFromPtr(envp), flags);
}

pub fn pivotRoot(new_root: [*:0]const u8, put_old: [*:0]const u8) usize {
    return linux.syscall2(.pivot_root, @intFromPtr(new_root), @intFromPtr(put_old));
}

pub fn setns(f: i32, nstype: u32) usize {
    return linux.syscall2(.setns, @as(usize, @bitCast(@as(isize, f))), nstype);
}

pub fn closeRange(first: u32, last: u32, flags: u32) usize {
    return linux.syscall3(.close_range, first, last, flags);
}
pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

pub fn keyctl(op: usize, a2: usize) usize {
    return linux.syscall2(.keyctl, op, a2);
}

pub fn ioprioSet(which: usize, who: usize, prio: usize) usize {
    return linux.syscall3(.ioprio_set, which, who, prio);
}

pub fn personality(persona: usize) usize {
    return linux.syscall1(.personality, persona);
}

pub fn schedSetattr(attr: *const anyopaque) usize {
    return linux.syscall3(.sched_setattr, 0, @intFromPtr(attr), 0);
}

pub fn sethostname(name: []const u8) usize {
    return linux.syscall2(.sethostname, @intFromPtr(name.ptr), name.len);
}

pub fn setdomainname(name: []const u8) usize {
    return linux.syscall2(.setdomainname, @intFromPtr(name.ptr), name.len);
}

pub fn umask(mask: u32) usize {
    return linux.syscall1(.umask, mask);
}

pub fn setresgid(gid: u32) usize {
    return linux.syscall3(.setresgid, gid, gid, gid);
}

/// Blocks every signal; returns the previous mask into `old`.
pub fn blockAll(old: *linux.sigset_t) void {
    const all: linux.sigset_t = [_]u32{0xffffffff} ** @typeInfo(linux.sigset_t).array.len;
    _ = linux.syscall4(.rt_sigprocmask, linux.SIG.SETMASK, @intFromPtr(&all), @intFromPtr(old), linux.NSIG / 8);
}

pub fn setMask(mask: *const linux.sigset_t) void {
    _ = linux.syscall4(.rt_sigprocmask, linux.SIG.SETMASK, @intFromPtr(mask), 0, linux.NSIG / 8);
}

/// Every signal back to its default action and none blocked: Bun ignores SIGPIPE and SIGXFSZ
/// and ignored signals survive execve (FINDINGS.md #1).
pub fn resetSignals() void {
    var sig: u32 = 1;
    while (sig < linux.NSIG) : (sig += 1) {
        if (sig == linux.SIG.KILL or sig == linux.SIG.STOP) continue;
        const act = KSigaction{ .handler = 0, .flags = 0, .restorer = 0, .mask = 0 };
        _ = linux.syscall4(.rt_sigaction, sig, @intFromPtr(&act), 0, 8);
    }
    const none: linux.sigset_t = [_]u32{0} ** @typeInfo(linux.sigset_t).array.len;
    setMask(&none);
}

/// The kernel's own sigaction layout on x86_64/aarch64 (sigset of 8 bytes).
const KSigaction = extern struct { handler: usize, flags: u64, restorer: usize, mask: u64 };

/// Decimal formatting into a caller buffer (argv for the init is built before clone3).
pub fn fmtInt(buf: []u8, value: i64) [:0]const u8 {
    const s = std.fmt.bufPrintZ(buf, "{d}", .{value}) catch unreachable;
    return s;
}

pub fn parseInt(s: [*:0]const u8) ?i32 {
    return std.fmt.parseInt(i32, std.mem.span(s), 10) catch null;
}

// Numeric flags (std's packed `O` does not fit openat2's u64 `flags`).
const arm = @import("builtin").cpu.arch == .aarch64;
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_DIRECTORY: u32 = if (arm) 0o40000 else 0o200000;
pub const O_NOFOLLOW: u32 = if (arm) 0o100000 else 0o400000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_PATH: u32 = 0o10000000;
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_EACCESS: u32 = 0x200;
pub const AT_EMPTY_PATH: u32 = 0x1000;

pub fn openat(dirfd: i32, path: [*:0]const u8, flags: u32, mode: u32) usize {
    return linux.syscall4(.openat, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), flags | O_CLOEXEC, mode);
}

pub fn open(path: [*:0]const u8, flags: u32) Errno!i32 {
    return fd(openat(AT_FDCWD, path, flags, 0));
}

pub fn faccessat2(dirfd: i32, path: [*:0]const u8, mode: u32, flags: u32) usize {
    return linux.syscall4(.faccessat2, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), mode, flags);
}

pub fn fchownat(dirfd: i32, path: [*:0]const u8, uid: u32, gid: u32, flags: u32) usize {
    return linux.syscall5(.fchownat, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), uid, gid, flags);
}

pub fn fchmodat(dirfd: i32, path: [*:0]const u8, mode: u32) usize {
    return linux.syscall3(.fchmodat, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), mode);
}

pub fn mknodat(dirfd: i32, path: [*:0]const u8, mode: u32, dev: u64) usize {
    return linux.syscall4(.mknodat, @as(usize, @bitCast(@as(isize, dirfd))), @intFromPtr(path), mode, dev);
}

pub fn mount(source: [*:0]const u8, target: [*:0]const u8, fstype: ?[*:0]const u8, flags: u64, data: ?[*:0]const u8) usize {
    return linux.syscall5(.mount, @intFromPtr(source), @intFromPtr(target), @intFromPtr(fstype), flags, @intFromPtr(data));
}

pub fn writeAll(f: i32, bytes: []const u8) Errno!void {
    var done: usize = 0;
    while (done < bytes.len) done += try retry(linux.write, .{ f, bytes[done..].ptr, bytes.len - done });
}

/// Linux's dev_t encoding (huge majors/minors included).
pub fn makedev(major: u32, minor: u32) u64 {
    const ma: u64 = major;
    const mi: u64 = minor;
    return (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~@as(u64, 0xff)) << 12) | ((ma & ~@as(u64, 0xfff)) << 32);
}

/// "/proc/self/fd/N" for mounting onto an fd that was resolved safely.
pub fn fdPath(buf: *[32]u8, f: i32) [:0]const u8 {
    return std.fmt.bufPrintZ(buf, "/proc/self/fd/{d}", .{f}) catch unreachable;
}

/// mount(2) flags, shared by the init's filesystem ops.
pub const MS = struct {
    pub const RDONLY: u64 = 1;
    pub const NOSUID: u64 = 2;
    pub const NODEV: u64 = 4;
    pub const NOEXEC: u64 = 8;
    pub const REMOUNT: u64 = 32;
    pub const BIND: u64 = 4096;
    pub const MOVE: u64 = 8192;
    pub const REC: u64 = 16384;
    pub const UNBINDABLE: u64 = 1 << 17;
    pub const PRIVATE: u64 = 1 << 18;
    pub const SLAVE: u64 = 1 << 19;
    pub const SHARED: u64 = 1 << 20;
};
pub const MNT_DETACH: u32 = 2;

/// Sends `fd` over a unix socket with SCM_RIGHTS; `data` rides along (a name, or one tag byte).
pub fn sendFd(socket: i32, fd_to_send: i32, data: []const u8) Errno!void {
    std.debug.assert(data.len > 0);
    var iov = [1]std.posix.iovec_const{.{ .base = data.ptr, .len = data.len }};
    var cbuf: [24]u8 align(8) = std.mem.zeroes([24]u8);
    const SCM_RIGHTS = 1;
    std.mem.writeInt(u64, cbuf[0..8], 20, .little); // cmsg_len = CMSG_LEN(sizeof(int))
    std.mem.writeInt(i32, cbuf[8..12], linux.SOL.SOCKET, .little);
    std.mem.writeInt(i32, cbuf[12..16], SCM_RIGHTS, .little);
    std.mem.writeInt(i32, cbuf[16..20], fd_to_send, .little);
    const msg = linux.msghdr_const{ .name = null, .namelen = 0, .iov = &iov, .iovlen = 1, .control = &cbuf, .controllen = cbuf.len, .flags = 0 };
    _ = try retry(linux.sendmsg, .{ socket, &msg, linux.MSG.NOSIGNAL });
}
