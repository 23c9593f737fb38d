//! The records the front (the small `bunrunc` executable) and the resident server (the Bun
//! program `bunrunc-core` started with BUNRUNC_SERVE) exchange, one per SOCK_SEQPACKET message
//! (zig/ipc.zig). src/server/proto.ts mirrors these layouts; `version` is in the server's
//! abstract socket name, so a front never talks to a server of another build.
//!
//! A call: the front connects and sends a Request (fds: its stdin, stdout, stderr). The server
//! answers with a sequence of records until Exit or Fallback:
//!   Fallback            only as the first record: the front execs bunrunc-core itself with its
//!                       own argv (the server did nothing: a verb it leaves to the direct path,
//!                       or a peer it refuses). A connection closed before any record means the
//!                       same; closed later, the call failed.
//!   Exit{code}          the call is over; the front exits with code
//!   Spawn + plan bytes  the front clones the container's init (zig/spawn.zig) and answers
//!                       Spawned (fds: pidfd, sync socket); the init is the front's child, as it
//!                       is runc's, so a subreaper caller (a shim, conmon) reaps it
//!   Wait{pid}           the front waits for its child pid, forwarding signals, then either
//!                       exits with its status or (cont = 1) calls again with kind = continue;
//!                       pid may become the front's child only later (an exec into a pid
//!                       namespace: the grandchild reparents once the intermediate exits)
const std = @import("std");

pub const version: u32 = 1;

pub const Op = enum(u32) { fallback = 1, exit = 2, spawn = 3, spawned = 4, wait = 5 };

pub const Kind = enum(u32) { call = 1, cont = 2 };

/// Front -> server. Followed by argc NUL-terminated argv strings (argv[0] included) and envc
/// NUL-terminated environment strings; `strings` bytes in all.
pub const Request = extern struct {
    magic: u32 = magic,
    kind: u32,
    /// kind = cont: the exit code the waited process gave (its status, or 128 + signal).
    status: i32 = 0,
    argc: u32,
    envc: u32,
    strings: u32,
};

pub const magic: u32 = 0x31515242; // "BRQ1"

/// Server -> front, Exit and Fallback (code unused).
pub const Exit = extern struct { op: u32, code: i32 = 0 };

/// Server -> front, followed by plan_len plan bytes. fds: n_extra extra fds, then n_join cgroup
/// v1 tasks files, then (has_cgroup_fd) the cgroup v2 directory, in that order.
pub const Spawn = extern struct {
    op: u32 = @intFromEnum(Op.spawn),
    plan_len: u32,
    clone_flags: u64,
    keep_below: u32,
    wait_for_parent: u32,
    n_extra: u32,
    n_join: u32,
    has_cgroup_fd: u32,
    /// Become a child subreaper before the clone (a foreground run or exec).
    subreaper: u32,
    /// Block the forwarded signals before the clone and hold them for the Wait that follows.
    hold_signals: u32,
    _pad: u32 = 0,
};

/// Front -> server. rc 0: fds = {pidfd, sync socket}; else -errno and step (zig/spawn.zig Step).
pub const Spawned = extern struct { op: u32 = @intFromEnum(Op.spawned), rc: i32, step: i32, pid: i32 };

/// Server -> front. pid: the front's child to wait for (for an exec into a pid namespace, the
/// grandchild that reparented to the front as subreaper).
pub const Wait = extern struct { op: u32 = @intFromEnum(Op.wait), pid: i32, cont: u32 };

comptime {
    std.debug.assert(@sizeOf(Request) == 24);
    std.debug.assert(@sizeOf(Spawn) == 48);
    std.debug.assert(@sizeOf(Spawned) == 16);
    std.debug.assert(@sizeOf(Wait) == 12);
}

/// The server's abstract socket name for a core binary and user: the binary's identity
/// (device, inode, size, mtime) so a rebuilt or reinstalled bunrunc never talks to an older
/// server, and the euid so each user has a server of their own.
pub fn serverName(buf: []u8, euid: u32, dev: u64, ino: u64, size: i64, mtime_ns: i128) []const u8 {
    return std.fmt.bufPrint(buf, "bunrunc/{d}/{d}/{x}-{x}-{x}-{x}", .{ version, euid, dev, ino, size, mtime_ns }) catch unreachable;
}
