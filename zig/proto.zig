//! The records the front (the small `bunrunc` executable) and the resident server (the Bun
//! program `bunrunc-core` started with BUNRUNC_SERVE) exchange, one per SOCK_SEQPACKET message
//! (zig/ipc.zig). src/server/proto.ts mirrors these layouts; `version` is in the server's
//! abstract socket name, so a front never talks to a server of another build.
//!
//! A call (one connection from first record to last; no record of a call ever arrives on another
//! connection):
//!   front -> Request    argv and environment
//!   server -> Fallback  the front execs bunrunc-core itself with its own argv (the server did
//!                       nothing: a verb it leaves to the direct path, a peer it refuses, a lock
//!                       another call holds). Allowed until the first Spawn or Wait.
//!   server -> Queued    (any number) admitted, behind other calls: sent again each time the
//!                       server finishes one, so a front knows the queue moves
//!   server -> Begin     the server is about to run the call. The front answers Go only if
//!                       Begin came within its admission bound (front.zig admit_ms_max) of the
//!                       last record; past it the front closes the connection and runs the call
//!                       directly, and the server, seeing no Go, never starts it. So a call runs
//!                       exactly once, and a server stuck in one call holds up nobody for long.
//!   front -> Go         (fds: its stdin, stdout, stderr — only now, so a server that never
//!                       begins the call never holds the caller's pipes open — and an fd of the
//!                       server's /proc/PID/ns/mnt it opened: proof it may inspect the server)
//!   server -> Exit{code}          the call is over; the front exits with code
//!   server -> Spawn + plan bytes  the front clones the container's init (zig/spawn.zig) and
//!                       answers Spawned (fds: pidfd, sync socket); the init is the front's
//!                       child, as it is runc's, so a subreaper caller (a shim, conmon) reaps it
//!   server -> Wait{pid} the front waits for its child pid, forwarding signals, then either
//!                       exits with its status or (cont = 1) sends Status{code} on the same
//!                       connection and reads on (the server finishes: run deletes); pid may
//!                       become the front's child only later (an exec into a pid namespace: the
//!                       grandchild reparents once the intermediate exits)
//! Both ends check who is on the other side through the kernel (SO_PEERPIDFD), never by pid
//! number alone: front.zig `trustedServer`, src/server/admission.ts.
const std = @import("std");

pub const version: u32 = 2;

pub const Op = enum(u32) { fallback = 1, exit = 2, spawn = 3, spawned = 4, wait = 5, begin = 6, go = 7, status = 8, queued = 9 };

pub const Kind = enum(u32) { call = 1 };

/// Front -> server. Followed by argc NUL-terminated argv strings (argv[0] included) and envc
/// NUL-terminated environment strings; `strings` bytes in all.
pub const Request = extern struct {
    magic: u32 = magic,
    kind: u32,
    /// Unused (0).
    status: i32 = 0,
    argc: u32,
    envc: u32,
    strings: u32,
};

pub const magic: u32 = 0x31515242; // "BRQ1"

/// Server -> front: Exit, Fallback and Begin (code unused); front -> server: Go (code unused)
/// and Status (code: the waited process's exit code, its status or 128 + signal).
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

/// Where servers listen: a directory only its owner (root) can enter, so nobody else can
/// connect to a server or put a socket of their own in its place; the front checks it is that
/// before it connects (front.zig).
pub const server_dir = "/run/bunrunc-core";

/// The server's socket path for a core binary: the binary's identity (device, inode, size,
/// mtime) so a rebuilt or reinstalled bunrunc never talks to an older server.
pub fn serverPath(buf: []u8, dev: u64, ino: u64, size: i64, mtime_ns: i128) [:0]const u8 {
    return std.fmt.bufPrintZ(buf, "{s}/{d}.{x}.{x}.{x}.{x}.sock", .{ server_dir, version, dev, ino, size, mtime_ns }) catch unreachable;
}
