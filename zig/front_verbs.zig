//! `start`, `state`, `kill` and `delete` run by the front itself, without Bun, for a container
//! whose create left a fast-verbs record (zig/front_record.zig; src/lib/fast-verbs.ts decides
//! which containers get one). Each does what its TypeScript verb does on its plain path and
//! nothing else. `run` returns — having changed nothing, or only what bunrunc-core would then
//! finish the same way — whenever anything is not plain: no record, a state another user could
//! have written, a busy lock, a paused or dead container where one is needed alive, any failed
//! syscall. The front then execs bunrunc-core, which redoes the call with the whole policy and
//! its own one-line errors: no error is ever reported from here.
//! Trust as src/state/store.ts: root, container dir and record owned by us or root and not
//! writable by group or others (a user's root must be its own), checked with fstat on the fd
//! then used; the dir and record opened relative to the checked fd, never through a link.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const goflag = @import("goflag.zig");
const record = @import("front_record.zig");
const files = @import("front_files.zig");
const server_link = @import("server_link.zig");

const O_CLOEXEC = sys.O_CLOEXEC;
const O_APPEND: u32 = 0o2000;
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFIFO: u32 = 0o010000;
const LOCK_EX: i32 = 2;
const LOCK_NB: i32 = 4;
const SIGKILL: u8 = 9;
/// delete's wait for a SIGKILLed init to go (src/lib/delete.ts GONE_TIMEOUT_MS).
const gone_timeout_ms = 10_000;
/// Names a container dir may hold for the front to remove it itself (state.json, the fifo, the
/// record, a writer's temp file): more goes to bunrunc-core.
const dir_entries_max = 16;

/// The fds this call opened; all closed before `run` returns.
var fds: [4]i32 = .{ -1, -1, -1, -1 };
var record_buf: [record.bytes_max]u8 align(8) = undefined;

const Opened = enum(u2) { log, root, dir, lock };

fn keep(which: Opened, f: i32) i32 {
    fds[@intFromEnum(which)] = f;
    return f;
}

fn closeAll() void {
    for (&fds) |*f| if (f.* >= 0) {
        sys.close(f.*);
        f.* = -1;
    };
}

/// The front's first step: a call it can run itself is run (and exits); anything else returns.
/// BUNRUNC_FAST=off (or 0) turns it off (the tests compare both paths); BUNRUNC_TIMING wants the
/// core's phase marks.
pub fn maybeRun() void {
    if (getenv("BUNRUNC_TIMING") != null) return;
    if (getenv("BUNRUNC_FAST")) |v| if (std.mem.eql(u8, v, "off") or std.mem.eql(u8, v, "0")) return;
    const argv: []const [*:0]const u8 = @ptrCast(std.os.argv);
    if (argv.len < 2) return;
    const call = goflag.parse(argv[1..]) orelse return;
    var root_buf: [linux.PATH_MAX]u8 = undefined;
    const root = defaultRoot(&root_buf) orelse return;
    run(call, root);
}

fn getenv(key: []const u8) ?[]const u8 {
    for (std.os.environ) |entry| {
        const kv = std.mem.span(entry);
        if (kv.len > key.len and kv[key.len] == '=' and std.mem.eql(u8, kv[0..key.len], key)) return kv[key.len + 1 ..];
    }
    return null;
}

/// src/state/store.ts defaultRoot with src/base/rootless.ts honorXdgRuntimeDir: $XDG_RUNTIME_DIR/
/// bunrunc for a user, or for root in a user namespace whose $USER is not root; else /run/bunrunc.
fn defaultRoot(buf: *[linux.PATH_MAX]u8) ?[]const u8 {
    const system = "/run/bunrunc";
    const xdg = getenv("XDG_RUNTIME_DIR") orelse return system;
    if (xdg.len == 0) return system;
    if (linux.geteuid() == 0) {
        // An unreadable uid_map is "in a user namespace" to initialUserNs and "not" to
        // src/base/rootless.ts: bunrunc-core picks the root then.
        if (!files.uidMapReadable()) return null;
        if (server_link.initialUserNs()) return system;
        if (getenv("USER")) |user| if (std.mem.eql(u8, user, "root")) return system;
    }
    const tail = "/bunrunc";
    // resolve() would normalize a relative or trailing-slash value: bunrunc-core does that.
    if (xdg[0] != '/' or xdg[xdg.len - 1] == '/' or xdg.len + tail.len >= buf.len) return null;
    @memcpy(buf[0..xdg.len], xdg);
    @memcpy(buf[xdg.len..][0..tail.len], tail);
    return buf[0 .. xdg.len + tail.len];
}

/// Runs the call and exits, or returns having done nothing bunrunc-core would not then finish.
fn run(call: goflag.Call, root_default: []const u8) void {
    defer closeAll();
    // A caller that closed 0..2 gets bunrunc-core: an fd of ours must never land there.
    for (0..3) |i| if (linux.E.init(linux.fcntl(@intCast(i), linux.F.GETFD, 0)) != .SUCCESS) return;
    const root = if (call.root) |r| (if (r.len > 0) r else root_default) else root_default;
    var root_z: [linux.PATH_MAX]u8 = undefined;
    const root_path = plainAbsolute(&root_z, root) orelse return;
    if (call.log) |log| if (log.len > 0) {
        // As runc opens it (and the core would): created if missing, appended to, nothing
        // written on success.
        var log_z: [linux.PATH_MAX]u8 = undefined;
        if (log.len >= log_z.len) return;
        @memcpy(log_z[0..log.len], log);
        log_z[log.len] = 0;
        const flags = sys.O_WRONLY | O_APPEND | sys.O_CREAT | O_CLOEXEC;
        _ = keep(.log, sys.fd(sys.openat(sys.AT_FDCWD, log_z[0..log.len :0], flags, 0o644)) catch return);
    };

    const root_fd = keep(.root, sys.fd(sys.openat(sys.AT_FDCWD, root_path, sys.O_RDONLY | sys.O_DIRECTORY | O_CLOEXEC, 0)) catch return);
    var st: linux.Stat = undefined;
    if (!files.fstatTrusted(root_fd, &st, S_IFDIR)) return;
    const euid = linux.geteuid();
    if (euid != 0 and st.uid != euid) return;

    var id_z: [goflag.id_len_max + 1]u8 = undefined;
    const id = zString(&id_z, call.id);
    const dir_fd = keep(.dir, sys.fd(sys.openat(root_fd, id, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW | O_CLOEXEC, 0)) catch {
        // `delete --force` of a container that is not there succeeds, doing nothing
        // (src/lib/delete.ts): containerd's shims delete every container twice, the second time
        // after it is gone. Unlocked: a create under way that has not made its dir yet comes after.
        if (call.verb == .delete and call.force and sys.last_errno == @intFromEnum(linux.E.NOENT)) linux.exit_group(0);
        return;
    });
    var dir_st: linux.Stat = undefined;
    if (!files.fstatTrusted(dir_fd, &dir_st, S_IFDIR)) return;
    // A record without its state.json (a removal killed half way) is no container: bunrunc-core
    // says so.
    if (!files.stateFileTrusted(dir_fd)) return;
    const r = readRecord(dir_fd) orelse return;

    // `state` takes no lock (src/lib/query.ts reads without one).
    if (call.verb == .state) return printState(dir_fd, &r);

    var lock_z: [goflag.id_len_max + 8]u8 = undefined;
    const lock_name = lockName(&lock_z, call.id);
    if (!takeLock(root_fd, lock_name)) return;
    // Still the directory we read, not one a delete and a create made meanwhile.
    var again: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(root_fd, id, &again, sys.AT_SYMLINK_NOFOLLOW)) != .SUCCESS) return;
    if (again.ino != dir_st.ino or again.dev != dir_st.dev) return;

    switch (call.verb) {
        .start => start(dir_fd, &r),
        .kill => kill(&r, call.signal),
        .delete => delete(root_fd, dir_fd, id, lock_name, &r, call.force),
        .state => unreachable,
    }
}

/// `path` NUL-terminated in `buf` if it is absolute with no `.`/`..` component, so the kernel's
/// walk and the TS's resolve() name the same directory; else null.
fn plainAbsolute(buf: *[linux.PATH_MAX]u8, path: []const u8) ?[:0]const u8 {
    if (path.len == 0 or path[0] != '/' or path.len >= buf.len) return null;
    if (std.mem.indexOfScalar(u8, path, 0) != null) return null;
    var parts = std.mem.splitScalar(u8, path, '/');
    while (parts.next()) |part| if (std.mem.eql(u8, part, ".") or std.mem.eql(u8, part, "..")) return null;
    @memcpy(buf[0..path.len], path);
    buf[path.len] = 0;
    return buf[0..path.len :0];
}

fn zString(buf: []u8, s: []const u8) [:0]const u8 {
    std.debug.assert(s.len < buf.len);
    @memcpy(buf[0..s.len], s);
    buf[s.len] = 0;
    return buf[0..s.len :0];
}

/// `.<id>.lock` (src/state/store.ts lockFileName).
fn lockName(buf: []u8, id: []const u8) [:0]const u8 {
    std.debug.assert(id.len + 7 < buf.len);
    buf[0] = '.';
    @memcpy(buf[1..][0..id.len], id);
    @memcpy(buf[1 + id.len ..][0..5], ".lock");
    buf[id.len + 6] = 0;
    return buf[0 .. id.len + 6 :0];
}

/// The container's record, checked, or null.
fn readRecord(dir_fd: i32) ?record.Record {
    const f = sys.fd(sys.openat(dir_fd, record.file_name, sys.O_RDONLY | sys.O_NOFOLLOW | sys.O_NONBLOCK | O_CLOEXEC, 0)) catch return null;
    defer sys.close(f);
    var st: linux.Stat = undefined;
    if (!files.fstatTrusted(f, &st, S_IFREG)) return null;
    if (st.size <= 0 or st.size > record.bytes_max) return null;
    const size: usize = @intCast(st.size);
    var at: usize = 0;
    while (at < size) {
        const n = sys.retry(linux.read, .{ f, record_buf[at..].ptr, size - at }) catch return null;
        if (n == 0) return null;
        at += n;
    }
    return record.parse(record_buf[0..size]);
}

/// flock on `<root>/.<id>.lock` as withContainerLock takes it, without waiting: busy (or the file
/// no longer at its name) is false, and bunrunc-core waits properly.
fn takeLock(root_fd: i32, name: [:0]const u8) bool {
    const flags = sys.O_RDWR | sys.O_CREAT | sys.O_NOFOLLOW | sys.O_NONBLOCK | O_CLOEXEC;
    const f = keep(.lock, sys.fd(sys.openat(root_fd, name, flags, 0o600)) catch return false);
    var st: linux.Stat = undefined;
    if (!files.fstatTrusted(f, &st, S_IFREG)) return false;
    if (linux.E.init(linux.flock(f, LOCK_EX | LOCK_NB)) != .SUCCESS) return false;
    var named: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(root_fd, name, &named, sys.AT_SYMLINK_NOFOLLOW)) != .SUCCESS) return false;
    return named.ino == st.ino and named.dev == st.dev;
}

/// The init is alive, not a zombie, and is the one recorded (its start time): src/lib/
/// init-process.ts isAlive.
fn initAlive(r: *const record.Record) bool {
    var path_buf: [32]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/stat", .{r.pid}) catch return false;
    const f = sys.open(path, sys.O_RDONLY | O_CLOEXEC) catch return false;
    defer sys.close(f);
    var buf: [1024]u8 = undefined;
    const n = sys.retry(linux.read, .{ f, &buf, buf.len }) catch return false;
    const text = buf[0..n];
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const close = std.mem.lastIndexOfScalar(u8, text, ')') orelse return false;
    if (close + 2 > text.len) return false;
    var fields = std.mem.splitScalar(u8, text[close + 2 ..], ' ');
    const state = fields.next() orelse return false;
    if (std.mem.eql(u8, state, "Z") or std.mem.eql(u8, state, "X")) return false;
    for (0..18) |_| _ = fields.next() orelse return false;
    const start_time = fields.next() orelse return false;
    return (std.fmt.parseInt(u64, start_time, 10) catch return false) == r.start_time;
}

/// src/lib/container.ts frozen(): v2 reads 1, v1 reads anything but THAWED; unreadable is not.
/// Null: the file is not in a cgroup filesystem (a forged record), and bunrunc-core decides.
fn frozen(r: *const record.Record) ?bool {
    if (r.freezer == .none) return false;
    const at = files.InCgroupfs.open(r.freezer_file) orelse return null;
    defer at.close();
    const f = sys.fd(sys.openat(at.parent, at.nameZ(), sys.O_RDONLY | sys.O_NOFOLLOW | sys.O_NONBLOCK | O_CLOEXEC, 0)) catch return false;
    defer sys.close(f);
    var buf: [64]u8 = undefined;
    const n = sys.retry(linux.read, .{ f, &buf, buf.len }) catch return false;
    const text = std.mem.trim(u8, buf[0..n], " \t\r\n");
    return if (r.freezer == .v2) std.mem.eql(u8, text, "1") else !std.mem.eql(u8, text, "THAWED");
}

/// The exec fifo is there (existsSync follows a link, as fstatat without NOFOLLOW does).
fn fifoExists(dir_fd: i32) bool {
    var st: linux.Stat = undefined;
    return linux.E.init(linux.fstatat(dir_fd, "exec.fifo", &st, 0)) == .SUCCESS;
}

const Status = enum { created, running, paused, stopped };

/// src/lib/container.ts liveStatus for a created record; null: bunrunc-core decides.
fn liveStatus(dir_fd: i32, r: *const record.Record) ?Status {
    if (!initAlive(r)) return .stopped;
    if (frozen(r) orelse return null) return .paused;
    if (fifoExists(dir_fd)) return .created;
    return .running;
}

/// runc's `state` JSON, the record's text around the live pid and status (no trailing newline).
fn printState(dir_fd: i32, r: *const record.Record) void {
    const status = liveStatus(dir_fd, r) orelse return;
    var out: [record.bytes_max + 64]u8 = undefined;
    var at: usize = 0;
    const pid: i32 = if (status == .stopped) 0 else r.pid;
    var pid_buf: [16]u8 = undefined;
    const parts = [_][]const u8{ r.state_head, sys.fmtInt(&pid_buf, pid), ",\n  \"status\": \"", @tagName(status), "\"", r.state_tail };
    for (parts) |part| {
        @memcpy(out[at..][0..part.len], part);
        at += part.len;
    }
    sys.writeAll(1, out[0..at]) catch return;
    linux.exit_group(0);
}

/// src/lib/start.ts: created → one byte into the fifo, the fifo unlinked. state.json stays.
fn start(dir_fd: i32, r: *const record.Record) void {
    if ((liveStatus(dir_fd, r) orelse return) != .created) return;
    const f = sys.fd(sys.openat(dir_fd, "exec.fifo", sys.O_WRONLY | sys.O_NONBLOCK | sys.O_NOFOLLOW | O_CLOEXEC, 0)) catch return;
    var st: linux.Stat = undefined;
    const is_fifo = linux.E.init(linux.fstat(f, &st)) == .SUCCESS and st.mode & S_IFMT == S_IFIFO;
    const written = is_fifo and files.writeNoSigpipe(f, 0);
    sys.close(f);
    if (!written) return;
    // The init runs now. An unlink that fails leaves a fifo nobody reads: bunrunc-core's start
    // then finds the init running (ENXIO) and says so.
    if (linux.E.init(linux.unlinkat(dir_fd, "exec.fifo", 0)) != .SUCCESS) return;
    linux.exit_group(0);
}

/// src/lib/kill.ts without --all: a pidfd checked against the start time, then the signal.
fn kill(r: *const record.Record, sig: u8) void {
    const pidfd = sys.fd(linux.pidfd_open(r.pid, 0)) catch return;
    defer sys.close(pidfd);
    if (!initAlive(r)) return;
    if (linux.E.init(linux.pidfd_send_signal(pidfd, sig, null, 0)) != .SUCCESS) return;
    linux.exit_group(0);
}

/// src/lib/delete.ts: stopped, created, or running with --force in its own pid namespace (paused
/// and the rest go to bunrunc-core): SIGKILL and wait, rmdir the cgroup dirs, remove the state
/// dir (the record first), then the lock file.
fn delete(root_fd: i32, dir_fd: i32, id: [:0]const u8, lock_name: [:0]const u8, r: *const record.Record, force: bool) void {
    const status = liveStatus(dir_fd, r) orelse return;
    switch (status) {
        .paused => return,
        .running => if (!force) return,
        .created, .stopped => {},
    }
    if (status != .stopped) {
        if (!r.own_pid_ns or !killAndWait(r)) return;
    }
    for (r.cgroups()) |dir| {
        // Only a directory of a cgroup filesystem: a forged record must not name any other.
        const at = files.InCgroupfs.open(dir) orelse return;
        defer at.close();
        const e = linux.E.init(linux.unlinkat(at.parent, at.nameZ(), linux.AT.REMOVEDIR));
        // Busy (a process still in it): bunrunc-core's careful path kills and retries.
        if (e != .SUCCESS and e != .NOENT) return;
    }
    if (!removeDir(root_fd, dir_fd, id)) return;
    _ = linux.unlinkat(root_fd, lock_name, 0);
    linux.exit_group(0);
}

/// SIGKILL through a pidfd checked against the start time, then its exit seen (at most
/// gone_timeout_ms). False: not sent, or not gone in time.
fn killAndWait(r: *const record.Record) bool {
    const pidfd = sys.fd(linux.pidfd_open(r.pid, 0)) catch return false;
    defer sys.close(pidfd);
    if (!initAlive(r)) return true; // gone meanwhile
    if (linux.E.init(linux.pidfd_send_signal(pidfd, SIGKILL, null, 0)) != .SUCCESS) return false;
    var pfd = [1]linux.pollfd{.{ .fd = pidfd, .events = linux.POLL.IN, .revents = 0 }};
    const n = sys.retry(linux.poll, .{ &pfd, 1, gone_timeout_ms }) catch return false;
    return n == 1;
}

/// removeStateDir: every entry (plain files and the fifo only, at most dir_entries_max; the
/// record first), then the dir. False before anything is removed when the dir holds more.
fn removeDir(root_fd: i32, dir_fd: i32, id: [:0]const u8) bool {
    var names_buf: [dir_entries_max * 256]u8 = undefined;
    var names: [dir_entries_max][:0]const u8 = undefined;
    var n: usize = 0;
    var used: usize = 0;
    var dents: [4096]u8 align(8) = undefined;
    while (true) {
        const got = sys.check(linux.getdents64(dir_fd, &dents, dents.len)) catch return false;
        if (got == 0) break;
        var off: usize = 0;
        while (off < got) {
            const d: *align(1) const linux.dirent64 = @ptrCast(&dents[off]);
            off += d.reclen;
            const name = std.mem.sliceTo(@as([*:0]const u8, @ptrCast(&d.name)), 0);
            if (std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..")) continue;
            if (d.type != linux.DT.REG and d.type != linux.DT.FIFO) return false;
            if (n == dir_entries_max or name.len > 255) return false;
            names[n] = zString(names_buf[used..][0 .. name.len + 1], name);
            used += name.len + 1;
            n += 1;
        }
    }
    _ = linux.unlinkat(dir_fd, record.file_name, 0);
    for (names[0..n]) |name| {
        const e = linux.E.init(linux.unlinkat(dir_fd, name, 0));
        if (e != .SUCCESS and e != .NOENT) return false;
    }
    return linux.E.init(linux.unlinkat(root_fd, id, linux.AT.REMOVEDIR)) == .SUCCESS;
}
