//! The end of the init: find the executable (at create, so a missing binary fails `create`
//! with the message podman maps to 127/126), report created, wait for start, run the
//! startContainer hooks, and exec.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");

const Error = ctx.Error;
const Reader = plan.Reader;
const default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const X_OK = 1;

fn readList(r: *Reader, out: *[ctx.argv_max + 1:null]?[*:0]const u8) Error!void {
    const n = try r.strsCount();
    for (0..n) |i| out[i] = (try r.str()).ptr;
    out[n] = null;
}

pub fn resolveExec(r: *Reader) Error!void {
    const name = try r.str();
    try readList(r, &ctx.exec_argv);
    try readList(r, &ctx.exec_envp);
    if (name.len == 0) return ctx.failWith("exec: empty executable name", .{});
    if (std.mem.indexOfScalar(u8, name, '/') != null) {
        try checkExecutable(name, name);
        ctx.exec_path = name.ptr;
        return;
    }
    var search: []const u8 = default_path;
    var i: usize = 0;
    while (ctx.exec_envp[i]) |e| : (i += 1) {
        const entry = std.mem.span(e);
        if (std.mem.startsWith(u8, entry, "PATH=")) search = entry[5..];
    }
    var denied = false;
    var dirs = std.mem.splitScalar(u8, search, ':');
    while (dirs.next()) |dir_raw| {
        const dir = if (dir_raw.len == 0) "." else dir_raw;
        if (dir.len + name.len + 2 > ctx.exec_path_buf.len) continue;
        @memcpy(ctx.exec_path_buf[0..dir.len], dir);
        ctx.exec_path_buf[dir.len] = '/';
        @memcpy(ctx.exec_path_buf[dir.len + 1 ..][0..name.len], name);
        ctx.exec_path_buf[dir.len + 1 + name.len] = 0;
        const candidate: [*:0]const u8 = @ptrCast(&ctx.exec_path_buf);
        if (!isRegular(candidate)) continue;
        if (!mayExec(candidate)) {
            denied = true;
            continue;
        }
        try checkInterpreter(name, candidate);
        ctx.exec_path = candidate;
        return;
    }
    if (denied) return ctx.failWith("exec: \"{s}\": permission denied", .{name});
    return ctx.failWith("exec: \"{s}\": executable file not found in $PATH", .{name});
}

/// X_OK for the effective ids. A seccomp profile loaded before this step (no noNewPrivileges)
/// may refuse faccessat2 with EPERM or ENOSYS: then decide from the mode bits, as Go does.
fn mayExec(path: [*:0]const u8) bool {
    const rc = sys.faccessat2(sys.AT_FDCWD, path, X_OK, sys.AT_EACCESS);
    switch (linux.E.init(rc)) {
        .SUCCESS => return true,
        .PERM, .NOSYS => {},
        else => return false,
    }
    var st: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(sys.AT_FDCWD, path, &st, 0)) != .SUCCESS) return false;
    const euid = linux.geteuid();
    if (euid == 0) return st.mode & 0o111 != 0;
    if (st.uid == euid) return st.mode & 0o100 != 0;
    if (st.gid == linux.getegid()) return st.mode & 0o010 != 0;
    return st.mode & 0o001 != 0;
}

fn isRegular(path: [*:0]const u8) bool {
    var st: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(sys.AT_FDCWD, path, &st, 0)) != .SUCCESS) return false;
    return st.mode & linux.S.IFMT == linux.S.IFREG;
}

fn checkExecutable(name: []const u8, path: [*:0]const u8) Error!void {
    var st: linux.Stat = undefined;
    const rc = linux.fstatat(sys.AT_FDCWD, path, &st, 0);
    if (linux.E.init(rc) != .SUCCESS) {
        return ctx.failWith("exec: \"{s}\": stat {s}: {s}", .{ name, path, ctx.errText(@intCast(@intFromEnum(linux.E.init(rc)))) });
    }
    if (st.mode & linux.S.IFMT == linux.S.IFDIR) return ctx.failWith("exec: \"{s}\": is a directory", .{name});
    if (st.mode & linux.S.IFMT != linux.S.IFREG or !mayExec(path)) {
        return ctx.failWith("exec: \"{s}\": permission denied", .{name});
    }
    try checkInterpreter(name, path);
}

/// A script whose #! interpreter is missing would fail at exec with a bare ENOENT: name it now.
fn checkInterpreter(name: []const u8, path: [*:0]const u8) Error!void {
    const fd = sys.open(path, sys.O_RDONLY) catch return;
    defer sys.close(fd);
    var head: [256]u8 = undefined;
    const n = sys.retry(linux.read, .{ fd, &head, head.len }) catch return;
    if (n < 3 or head[0] != '#' or head[1] != '!') return;
    var i: usize = 2;
    while (i < n and (head[i] == ' ' or head[i] == '\t')) i += 1;
    const start = i;
    while (i < n and head[i] != ' ' and head[i] != '\t' and head[i] != '\n') i += 1;
    if (i == start or i >= n) return;
    head[i] = 0;
    const interp: [*:0]const u8 = @ptrCast(&head[start]);
    if (isRegular(interp)) return;
    return ctx.failWith("exec: \"{s}\": interpreter {s}: no such file or directory", .{ name, interp });
}

/// A runtime already gone never records us: leave instead of waiting for a start nobody can give.
pub fn reportCreated() void {
    if (!ctx.sendRecord(plan.Msg.created, 0, 0, "")) linux.exit_group(1);
    ctx.reported = true;
}

/// Blocks until `start` writes its byte into the exec fifo (opened read-only, non-blocking,
/// by the runtime); a writer that leaves without writing means nobody will start us.
/// Until the runtime's last byte on the sync socket says the container is recorded (state.json
/// "created"), its death (EOF) ends us: no verb could see, start or delete an init it never
/// recorded. After that byte the sync socket is closed and the runtime may exit (the normal
/// created state).
pub fn waitStart(r: *Reader) Error!void {
    const fifo = try r.i32_();
    var pfd = [_]linux.pollfd{
        .{ .fd = fifo, .events = linux.POLL.IN, .revents = 0 },
        .{ .fd = ctx.sync_fd, .events = linux.POLL.IN, .revents = 0 },
    };
    while (true) {
        _ = try sys.retry(linux.poll, .{ &pfd, pfd.len, -1 });
        // A start that came first wins: it read a state that says created.
        if (pfd[0].revents != 0) break;
        if (pfd[1].revents != 0) {
            var ack: [1]u8 = .{1};
            const got = sys.retry(linux.read, .{ ctx.sync_fd, &ack, 1 }) catch 0;
            if (got != 1 or ack[0] != 0) linux.exit_group(1);
            sys.close(ctx.sync_fd);
            ctx.sync_fd = -1;
            // poll(2) skips a negative fd.
            pfd[1].fd = -1;
        }
    }
    var b: [1]u8 = undefined;
    const n = try sys.retry(linux.read, .{ fifo, &b, 1 });
    if (n != 1) linux.exit_group(1);
    sys.close(fifo);
}

pub fn keepFds(r: *Reader) Error!void {
    const first = try r.u32_();
    const count = try r.u32_();
    if (first != 3 or count > 1024) return error.BadPlan;
    ctx.keep = count;
}

pub fn exec() Error!void {
    const path = ctx.exec_path orelse return ctx.failWith("exec without a resolved executable", .{});
    sys.resetSignals();
    // The last host fd barrier (CVE-2024-21626): only stdio and the kept fds cross the exec.
    _ = sys.closeRange(3 + ctx.keep, std.math.maxInt(u32), sys.CLOSE_RANGE_CLOEXEC);
    const rc = linux.execve(path, &ctx.exec_argv, &ctx.exec_envp);
    ctx.setDetail("{s}", .{path});
    _ = try sys.check(rc);
    unreachable;
}
