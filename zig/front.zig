//! bunrunc: the front. Engines (containerd's shim, conmon, podman, docker) exec this small static
//! executable with runc's argv; it never parses that argv. It hands the call to the resident
//! server (bunrunc-core started with BUNRUNC_SERVE, zig/proto.zig) and does only what must
//! happen in the calling process itself. Why it exists:
//!   - Bun's start and exit cost about 4 ms and 40 MB RSS per call; a static executable that
//!     forwards to a warm server pays a connect and a few messages instead.
//!   - The container's init must be the caller's child, as it is runc's: a subreaper caller (the
//!     shim, conmon) reaps it and reads its status. So the server sends a Spawn record and the
//!     front clones the init itself (zig/spawn.zig), then waits for it with signal forwarding.
//!   - CVE-2019-5736: neither this binary nor bunrunc-core is ever /proc/self/exe of a container
//!     process; spawn.zig execs the sealed bunrunc-init memfd.
//! Whenever the server is absent, refuses, or is of no use, the front execs bunrunc-core (next to
//! it, "<realpath of this binary>-core") with its own argv and environment: the direct path.
//! Static, no libc, single-threaded, no allocation: every buffer below is a global or on the
//! stack with an explicit limit. front_records.zig checks each record before it is acted on;
//! front_wait.zig is the foreground wait (signal forwarding, reaping).
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ipc = @import("ipc.zig");
const proto = @import("proto.zig");
const spawn = @import("spawn.zig");
const server_link = @import("server_link.zig");
const records = @import("front_records.zig");
const wait = @import("front_wait.zig");
const fast = @import("front_verbs.zig");

// The caller's SIGPIPE disposition is passed on to bunrunc-core untouched (our own writes use
// MSG_NOSIGNAL or go to stderr).
pub const std_options: std.Options = .{ .keep_sigpipe = true };

/// A panic is a bug in the front: one line, exit 1, no stack walking code in the binary.
pub const panic = std.debug.FullPanic(crash);

fn crash(msg: []const u8, _: ?usize) noreturn {
    @branchHint(.cold);
    fail(&.{ "bunrunc: internal error: ", msg });
}

/// One message either way: a request (argv and environment) or a Spawn record (48 bytes and a
/// plan of at most plan.bytes_max).
const buf_size = plan.bytes_max + 64 * 1024;
var buf: [buf_size]u8 align(8) = undefined;

comptime {
    std.debug.assert(buf_size >= @sizeOf(proto.Spawn) + plan.bytes_max);
    std.debug.assert(@sizeOf(proto.Exit) == 8);
}

/// "<realpath of /proc/self/exe>-core", NUL-terminated.
const core_suffix = "-core";
var core_buf: [linux.PATH_MAX + core_suffix.len + 1]u8 = undefined;
var core: [:0]const u8 = "";

/// The server's socket path (proto.serverPath) and the core binary's identity it names.
var path_buf: [200]u8 = undefined;
var server_path: [:0]const u8 = "";
var core_stat: linux.Stat = undefined;

/// How long a front waits for the server's next record (Queued: the queue moved; Begin) before it
/// runs the call directly: a server held up by one call (a stuck init, a slow filesystem) delays
/// nobody else by more than this, while a long queue that moves keeps its fronts.
const admit_ms_max = 1000;

/// The three fds a request carries: our 0, 1, 2, or /dev/null for one that is closed.
var stdio_fds: [3]i32 = .{ 0, 1, 2 };
var null_fd: i32 = -1;

const F_DUPFD_CLOEXEC: i32 = 1030;
const PR_SET_CHILD_SUBREAPER: i32 = 36;

pub fn main() noreturn {
    // start, state, kill and delete of a plain container: no Bun, no server (front_verbs.zig).
    fast.maybeRun();
    resolveCore();
    // Servers are root's only: a user's calls run directly (nothing to gain from a server of
    // their own until rootless containers need one), and so do those of root in a user
    // namespace (rootless podman calls us as its namespace's root): privilege it does not have.
    if (serverDisabled() or linux.geteuid() != 0 or !server_link.initialUserNs()) execCore();

    // Before any fd is opened: which of 0..2 the caller left open. Nothing of ours may ever sit
    // at 0..2, where the container would inherit it as stdio.
    probeStdio();

    if (linux.E.init(linux.fstatat(sys.AT_FDCWD, core, &core_stat, 0)) != .SUCCESS) execCore();
    const mtime_ns: i128 = @as(i128, core_stat.mtim.sec) * std.time.ns_per_s + core_stat.mtim.nsec;
    server_path = proto.serverPath(&path_buf, core_stat.dev, core_stat.ino, core_stat.size, mtime_ns);

    const sock = connectServer() orelse {
        // Nobody listens: start one for the next calls and run this one directly, without
        // waiting for Bun's start.
        const errno = sys.last_errno;
        if (errno == @intFromEnum(linux.E.CONNREFUSED) or errno == @intFromEnum(linux.E.NOENT)) server_link.startServer(server_path, core);
        execCore();
    };
    if (!sendRequest(sock) or !admitted(sock)) {
        sys.close(sock);
        execCore();
    }
    serve(sock);
}

/// core = readlink(/proc/self/exe) ++ "-core". The kernel's link is already the real path.
fn resolveCore() void {
    const room = core_buf.len - core_suffix.len - 1;
    const rc = linux.readlink("/proc/self/exe", &core_buf, room);
    if (linux.E.init(rc) != .SUCCESS) failErrno("readlink ", "/proc/self/exe", rc);
    const len = rc;
    if (len == 0 or len >= room) fail(&.{"bunrunc: readlink /proc/self/exe: path too long"});
    @memcpy(core_buf[len..][0..core_suffix.len], core_suffix);
    core_buf[len + core_suffix.len] = 0;
    core = core_buf[0 .. len + core_suffix.len :0];
}

/// BUNRUNC_SERVER=off (or 0): every call takes the direct path.
fn serverDisabled() bool {
    const value = getenv("BUNRUNC_SERVER") orelse return false;
    return std.mem.eql(u8, value, "off") or std.mem.eql(u8, value, "0");
}

fn getenv(key: []const u8) ?[]const u8 {
    for (std.os.environ) |entry| {
        const kv = std.mem.span(entry);
        if (kv.len > key.len and kv[key.len] == '=' and std.mem.eql(u8, kv[0..key.len], key)) return kv[key.len + 1 ..];
    }
    return null;
}

/// bunrunc-core with our argv (argv[0] as given) and environment: the kernel's own
/// NULL-terminated arrays, passed on as they are.
fn execCore() noreturn {
    const argv: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.argv.ptr);
    const envp: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.environ.ptr);
    const rc = linux.execve(core, argv, envp);
    failErrno("exec ", core, rc);
}

fn probeStdio() void {
    for (0..3) |i| {
        const f: i32 = @intCast(i);
        if (linux.E.init(linux.fcntl(f, linux.F.GETFD, 0)) == .SUCCESS) continue;
        stdio_fds[i] = devNull() orelse execCore();
    }
}

/// Our /dev/null (O_RDWR, close-on-exec, never at 0..2), opened once.
fn devNull() ?i32 {
    if (null_fd >= 0) return null_fd;
    const f = sys.fd(sys.openat(sys.AT_FDCWD, "/dev/null", sys.O_RDWR, 0)) catch return null;
    null_fd = raise(f, 3) catch return null;
    return null_fd;
}

/// `f` itself if it is at least `floor`, else a close-on-exec copy at floor or above (the old
/// number is closed).
pub fn raise(f: i32, floor: u32) sys.Errno!i32 {
    std.debug.assert(f >= 0);
    if (f >= floor) return f;
    const moved = try sys.fd(linux.fcntl(f, F_DUPFD_CLOEXEC, floor));
    sys.close(f);
    std.debug.assert(moved >= floor);
    return moved;
}

/// A connection to a server that is ours to trust (server_link.zig), or null with
/// sys.last_errno set (ENOENT/ECONNREFUSED: none listens; EPERM: not one to trust).
fn connectServer() ?i32 {
    if (!server_link.dirIsPrivate()) return null;
    const rc = ipc.connectPath(server_path);
    if (rc < 0) {
        sys.last_errno = -rc;
        return null;
    }
    const sock = raise(rc, 3) catch {
        sys.close(rc);
        return null;
    };
    if (!server_link.trustedServer(sock, &core_stat)) {
        sys.close(sock);
        sys.last_errno = @intFromEnum(linux.E.PERM);
        return null;
    }
    return sock;
}

/// Waits (at most admit_ms_max) for the server to begin the call, and commits to it with Go.
/// False: Fallback, no answer in time, or the connection closed — the call has not run and
/// runs directly. Past Go the call is the server's: it is never run a second time here.
fn admitted(sock: i32) bool {
    var fds: [ipc.fds_max]i32 = undefined;
    var nfds: u32 = 0;
    while (true) {
        const n = ipc.recv(sock, &buf, &fds, &nfds, admit_ms_max);
        closeAll(fds[0..nfds]);
        if (n < 0) return false;
        const begin = records.fixed(proto.Exit, buf[0..@intCast(n)]) catch return false;
        const op = begin.op;
        if (op == @intFromEnum(proto.Op.begin)) break;
        if (op != @intFromEnum(proto.Op.queued)) return false;
    }
    // Our stdio travels only now: fds in flight in a server's unread queue would keep the
    // caller's pipes open (an engine reading them to EOF would wait on a server that never ran
    // the call).
    // With it, the proof that we may look at the server (server_link.proofOfAccess).
    const proof = server_link.proofOfAccess();
    if (proof < 0) return false;
    defer sys.close(proof);
    const fds_go = [4]i32{ stdio_fds[0], stdio_fds[1], stdio_fds[2], proof };
    const go = proto.Exit{ .op = @intFromEnum(proto.Op.go) };
    return ipc.send(sock, std.mem.asBytes(&go), &fds_go) == @sizeOf(proto.Exit);
}

/// Sends a Request (front_records.encodeRequest; no fds: stdio goes with Go). False if it does
/// not fit one message or the send failed.
fn sendRequest(sock: i32) bool {
    const at = records.encodeRequest(&buf, std.os.argv, std.os.environ) orelse return false;
    const message = buf[0..at];
    const sent = ipc.send(sock, message, &.{});
    if (sent == @as(i32, @intCast(at))) return true;
    // The default send buffer (wmem_default) holds any ordinary request; only a huge
    // environment pays the setsockopt, and growing it first would shrink it for small ones.
    if (sent != -@as(i32, @intFromEnum(linux.E.MSGSIZE)) and sent != -@as(i32, @intFromEnum(linux.E.NOBUFS))) return false;
    ipc.growSendBuffer(sock, @intCast(at + 4096));
    return ipc.send(sock, message, &.{}) == @as(i32, @intCast(at));
}

/// The receive loop of a call the server has begun (Go sent), until Exit or Fallback.
fn serve(first_sock: i32) noreturn {
    var sock = first_sock;
    // Past a Spawn or Wait the server has acted for this call: running it again directly would
    // do it twice. Before that a Fallback still means it did nothing (a container lock another
    // call holds); a connection closed at any point after Go means it may have done anything.
    var acted = false;
    var fds: [ipc.fds_max]i32 = undefined;
    var nfds: u32 = 0;
    while (true) {
        const n = ipc.recv(sock, &buf, &fds, &nfds, -1);
        if (n <= 0) fail(&.{"bunrunc: the resident server closed the connection mid-call"});
        const message = buf[0..@intCast(n)];
        const op = records.opOf(message) catch |e| protocolError(records.describe(e));
        const received = fds[0..nfds];
        switch (op) {
            @intFromEnum(proto.Op.fallback) => {
                closeAll(received);
                // After a record the call is the server's: a second run would repeat it.
                if (acted) protocolError("Fallback after the call began");
                sys.close(sock);
                execCore();
            },
            @intFromEnum(proto.Op.exit) => {
                closeAll(received);
                const exit = records.fixed(proto.Exit, message) catch |e| protocolError(records.describe(e));
                if (exit.code != 0) wait.reapFailedCall();
                linux.exit_group(exit.code & 0xff);
            },
            @intFromEnum(proto.Op.spawn) => {
                acted = true;
                sock = spawnInit(sock, message, received);
            },
            @intFromEnum(proto.Op.wait) => {
                acted = true;
                closeAll(received);
                const w = records.fixed(proto.Wait, message) catch |e| protocolError(records.describe(e));
                const code = wait.waitFor(w.pid);
                if (w.cont == 0) linux.exit_group(code);
                // The server asked to hear the status (cleanup after a foreground run), on this
                // same connection; if it is gone, the status is still the call's answer.
                const status = proto.Exit{ .op = @intFromEnum(proto.Op.status), .code = code };
                if (ipc.send(sock, std.mem.asBytes(&status), &.{}) != @sizeOf(proto.Exit)) linux.exit_group(code);
                const answer = ipc.recv(sock, &buf, &fds, &nfds, -1);
                closeAll(fds[0..nfds]);
                if (answer < 0) linux.exit_group(code);
                const last = records.fixed(proto.Exit, buf[0..@intCast(answer)]) catch linux.exit_group(code);
                if (last.op != @intFromEnum(proto.Op.exit)) linux.exit_group(code);
                linux.exit_group(last.code & 0xff);
            },
            else => {
                closeAll(received);
                var op_buf: [16]u8 = undefined;
                fail(&.{ "bunrunc: unexpected record ", sys.fmtInt(&op_buf, op), " from the resident server" });
            },
        }
    }
}

/// Spawn: clone the container's init as our child, answer Spawned. Returns the server socket
/// (renumbered at or above keep_below).
fn spawnInit(first_sock: i32, message: []const u8, received: []i32) i32 {
    const record = records.spawnOf(message, received.len) catch |e| protocolError(records.describe(e));
    const s = record.header;
    const plan_bytes = record.plan;

    // spawn.zig hands the caller's 3..keep_below-1 to the container (--preserve-fds): nothing
    // of ours may sit there.
    var sock = first_sock;
    var moved = true;
    sock = raise(sock, s.keep_below) catch blk: {
        moved = false;
        break :blk sock;
    };
    for (received) |*f| f.* = raise(f.*, s.keep_below) catch blk: {
        moved = false;
        break :blk f.*;
    };
    if (null_fd >= 0) {
        const old = null_fd;
        null_fd = raise(old, s.keep_below) catch blk: {
            moved = false;
            break :blk old;
        };
        for (&stdio_fds) |*f| if (f.* == old) {
            f.* = null_fd;
        };
    }
    if (wait.signal_fd >= 0) wait.signal_fd = raise(wait.signal_fd, s.keep_below) catch blk: {
        moved = false;
        break :blk wait.signal_fd;
    };
    if (!moved) {
        const rc = failedRc();
        closeAll(received);
        replySpawned(sock, .{ .rc = rc, .step = @intFromEnum(spawn.Step.args), .pid = -1 }, &.{});
        return sock;
    }

    if (s.subreaper != 0) wait.subreaper = linux.E.init(linux.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == .SUCCESS;
    // A caller that ignores SIGCHLD would have the init reaped by the kernel, status lost.
    wait.defaultSigchld();
    if (s.hold_signals != 0) wait.holdSignals();

    const extra = received[0..s.n_extra];
    const join = received[s.n_extra..][0..s.n_join];
    const cgroup_fd: i32 = if (s.has_cgroup_fd != 0) received[s.n_extra + s.n_join] else -1;
    var result: spawn.Result = undefined;
    sys.last_errno = 0;
    spawn.spawn(.{
        .plan = plan_bytes,
        .clone_flags = s.clone_flags,
        .keep_below = s.keep_below,
        .extra_fds = extra,
        .wait_for_parent = s.wait_for_parent != 0,
        .cgroup_fd = cgroup_fd,
        .cgroup_join_fds = join,
    }, &result);
    closeAll(received);
    if (result.step != 0) {
        replySpawned(sock, .{ .rc = failedRc(), .step = result.step, .pid = -1 }, &.{});
        return sock;
    }
    wait.noteCloned(result.pid);
    replySpawned(sock, .{ .rc = 0, .step = 0, .pid = result.pid }, &.{ result.pidfd, result.sync_fd });
    // The server holds its own copies now. The init is our child: we wait with wait4.
    sys.close(result.sync_fd);
    sys.close(result.pidfd);
    return sock;
}

/// Spawned.rc of a failure: -errno, never 0 even if no errno was recorded.
fn failedRc() i32 {
    const errno: i32 = @max(sys.last_errno, 1);
    return -errno;
}

/// A failed send is not answered here: the server's next record (or the connection's end) is.
fn replySpawned(sock: i32, reply: proto.Spawned, fds: []const i32) void {
    _ = ipc.send(sock, std.mem.asBytes(&reply), fds);
}

fn closeAll(fds: []const i32) void {
    for (fds) |f| sys.close(f);
}

pub fn protocolError(what: []const u8) noreturn {
    fail(&.{ "bunrunc: protocol error from the resident server: ", what });
}

/// "bunrunc: <what><path>: E<NAME>", exit 1.
fn failErrno(what: []const u8, path: []const u8, rc: usize) noreturn {
    const e = linux.E.init(rc);
    var num_buf: [16]u8 = undefined;
    const errno_name = std.enums.tagName(linux.E, e) orelse sys.fmtInt(&num_buf, @intFromEnum(e));
    fail(&.{ "bunrunc: ", what, path, ": E", errno_name });
}

/// One line on stderr (one write, so lines of concurrent calls do not interleave), exit 1.
pub fn fail(parts: []const []const u8) noreturn {
    var line: [linux.PATH_MAX + 256]u8 = undefined;
    var at: usize = 0;
    for (parts) |p| {
        const take = @min(p.len, line.len - 1 - at);
        @memcpy(line[at..][0..take], p[0..take]);
        at += take;
    }
    line[at] = '\n';
    _ = linux.write(2, &line, at + 1);
    linux.exit_group(1);
}
