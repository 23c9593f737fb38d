//! How the front finds a resident server it may hand a call (its argv, environment and stdio)
//! to, and starts one. The server acts with root's authority for whoever reaches it, so the
//! front checks the server as strictly as the server checks the front:
//!   - it listens on a socket file in proto.server_dir, a directory only our euid can enter: no
//!     other user can connect or put a socket of their own there (an abstract name, what this
//!     used to be, is open to anyone in the network namespace, containers with --net=host too);
//!   - through the kernel (SO_PEERPIDFD), the process listening is our own core binary, run by
//!     our euid, in every namespace we are in, with our root directory, our capability sets,
//!     no_new_privs, seccomp state, LSM label and resource limits, and still that process after
//!     the checks (a root process stripped of its capabilities could otherwise listen, exec the
//!     real core binary and be handed the calls of a fully privileged root);
//!   - the directory is mode 0000: only a process with CAP_DAC_OVERRIDE enters it at all.
//! Anything else, and a kernel without SO_PEERPIDFD (before 6.5), gets the direct path.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const ipc = @import("ipc.zig");
const proto = @import("proto.zig");

/// The namespaces a server must share with us: its view of mounts, pids, users, cgroups and
/// the rest is the one the call is made in.
const namespaces = [_][:0]const u8{ "mnt", "pid", "net", "user", "ipc", "uts", "cgroup", "time" };

const LOCK_EX: i32 = 2;
const LOCK_NB: i32 = 4;
const server_path_env = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Whether proto.server_dir is a real directory (not a link) owned by our euid, mode 0000 (only
/// CAP_DAC_OVERRIDE enters), in a parent (/run) only root can write.
pub fn dirIsPrivate() bool {
    var st: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(sys.AT_FDCWD, "/run", &st, sys.AT_SYMLINK_NOFOLLOW)) != .SUCCESS) return false;
    if (!linux.S.ISDIR(st.mode) or st.uid != 0 or st.mode & 0o022 != 0) return false;
    const rc = linux.fstatat(sys.AT_FDCWD, proto.server_dir, &st, sys.AT_SYMLINK_NOFOLLOW);
    if (linux.E.init(rc) != .SUCCESS) {
        sys.last_errno = @intCast(@intFromEnum(linux.E.init(rc)));
        return false;
    }
    if (!linux.S.ISDIR(st.mode) or st.uid != linux.geteuid()) {
        sys.last_errno = @intFromEnum(linux.E.PERM);
        return false;
    }
    // Ours but open to more than CAP_DAC_OVERRIDE (an older bunrunc's 0700): as good as none
    // yet — startServer closes it before a server listens there.
    sys.last_errno = @intFromEnum(linux.E.NOENT);
    return st.mode & 0o777 == 0;
}

/// Whether the process listening behind `sock` is a server we may trust: `core` (device and
/// inode of the binary we would exec) run by our euid, in all our namespaces, alive after the
/// checks (so the /proc reads were of that process, not of a later one with its pid).
/// The pid of the server trustedServer last accepted (the front proves to it that it may look at
/// it: front.zig sends an fd of its mount namespace file with Go).
pub var server_pid: i32 = 0;

pub fn trustedServer(sock: i32, core: *const linux.Stat) bool {
    const pidfd = ipc.peerPidfd(sock);
    if (pidfd < 0) return false; // ENOPROTOOPT: no kernel-attested identity, no server
    defer sys.close(pidfd);
    var cred: [3]u32 = undefined;
    if (ipc.peerCred(sock, &cred) < 0 or cred[1] != linux.geteuid()) return false;
    const pid = ipc.pidOfPidfd(pidfd) orelse return false;
    var path_buf: [64]u8 = undefined;
    const exe = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/exe", .{pid}) catch return false;
    var st: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(sys.AT_FDCWD, exe, &st, 0)) != .SUCCESS) return false;
    if (st.dev != core.dev or st.ino != core.ino) return false;
    for (namespaces) |ns| if (!sameNamespace(pid, ns)) return false;
    if (!sameFile(pid, "root") or !sameContext(pid)) return false;
    if (!ipc.pidfdAlive(pidfd)) return false;
    server_pid = pid;
    return true;
}

/// The status lines that make a process's authority: credentials, capability sets, no_new_privs
/// and seccomp. Our own must be what the server's are.
const status_fields = [_][]const u8{ "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:", "Seccomp_filters:" };

fn sameContext(pid: i32) bool {
    var theirs: [4096]u8 = undefined;
    var ours: [4096]u8 = undefined;
    var path_buf: [64]u8 = undefined;
    const t = readProc(std.fmt.bufPrintZ(&path_buf, "/proc/{d}/status", .{pid}) catch return false, &theirs) orelse return false;
    const o = readProc("/proc/self/status", &ours) orelse return false;
    for (status_fields) |field| {
        if (!std.mem.eql(u8, statusLine(t, field), statusLine(o, field))) return false;
    }
    // The LSM label and the resource limits: read whole, equal whole ("" where absent for both).
    const files = [_][]const u8{ "attr/current", "limits" };
    for (files) |name| {
        const tl = readProc(std.fmt.bufPrintZ(&path_buf, "/proc/{d}/{s}", .{ pid, name }) catch return false, &theirs) orelse "";
        var self_buf: [64]u8 = undefined;
        const ol = readProc(std.fmt.bufPrintZ(&self_buf, "/proc/self/{s}", .{name}) catch return false, &ours) orelse "";
        if (!std.mem.eql(u8, tl, ol)) return false;
    }
    return true;
}

/// The line of `text` that starts with `field` ("" when there is none).
fn statusLine(text: []const u8, field: []const u8) []const u8 {
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |line| if (std.mem.startsWith(u8, line, field)) return line;
    return "";
}

/// A small /proc file, whole (null: unreadable, or larger than `buf`).
fn readProc(path: [:0]const u8, buf: []u8) ?[]const u8 {
    const f = sys.fd(sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_CLOEXEC, 0)) catch return null;
    defer sys.close(f);
    var at: usize = 0;
    while (at < buf.len) {
        const n = sys.retry(linux.read, .{ f, buf[at..].ptr, buf.len - at }) catch return null;
        if (n == 0) return buf[0..at];
        at += n;
    }
    return null;
}

/// /proc/<pid>/<name> and /proc/self/<name> lead to the same file (a root directory).
fn sameFile(pid: i32, name: []const u8) bool {
    var a_buf: [64]u8 = undefined;
    var b_buf: [64]u8 = undefined;
    const a_path = std.fmt.bufPrintZ(&a_buf, "/proc/{d}/{s}", .{ pid, name }) catch return false;
    const b_path = std.fmt.bufPrintZ(&b_buf, "/proc/self/{s}", .{name}) catch return false;
    var a: linux.Stat = undefined;
    var b: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(sys.AT_FDCWD, a_path, &a, 0)) != .SUCCESS) return false;
    if (linux.E.init(linux.fstatat(sys.AT_FDCWD, b_path, &b, 0)) != .SUCCESS) return false;
    return a.dev == b.dev and a.ino == b.ino;
}

/// Our authority is whole: every capability the bounding set allows is effective and permitted,
/// no no_new_privs, no seccomp filter. Only such a front starts a server (a server inherits it).
fn unrestricted() bool {
    var buf: [4096]u8 = undefined;
    const text = readProc("/proc/self/status", &buf) orelse return false;
    const bnd = value(text, "CapBnd:");
    return bnd.len > 0 and std.mem.eql(u8, bnd, value(text, "CapEff:")) and std.mem.eql(u8, bnd, value(text, "CapPrm:")) and
        std.mem.eql(u8, value(text, "NoNewPrivs:"), "0") and std.mem.eql(u8, value(text, "Seccomp:"), "0");
}

/// A status field's value, trimmed ("" when there is none).
fn value(text: []const u8, field: []const u8) []const u8 {
    const line = statusLine(text, field);
    if (line.len < field.len) return "";
    return std.mem.trim(u8, line[field.len..], " \t");
}

/// An fd of the server's mount namespace file, opened by us: the kernel lets only a process that
/// may inspect the server (ptrace read access: not sandboxed away from it by Landlock, holding
/// every capability it holds) open it. The server checks it is its own. -1 when refused.
pub fn proofOfAccess() i32 {
    var path_buf: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/ns/mnt", .{server_pid}) catch return -1;
    return sys.fd(sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_CLOEXEC, 0)) catch -1;
}

fn sameNamespace(pid: i32, ns: [:0]const u8) bool {
    var theirs_buf: [64]u8 = undefined;
    var ours_buf: [64]u8 = undefined;
    const theirs = std.fmt.bufPrintZ(&theirs_buf, "/proc/{d}/ns/{s}", .{ pid, ns }) catch return false;
    const ours = std.fmt.bufPrintZ(&ours_buf, "/proc/self/ns/{s}", .{ns}) catch return false;
    var a: linux.Stat = undefined;
    var b: linux.Stat = undefined;
    const ra = linux.E.init(linux.fstatat(sys.AT_FDCWD, theirs, &a, 0));
    const rb = linux.E.init(linux.fstatat(sys.AT_FDCWD, ours, &b, 0));
    // A namespace kind this kernel lacks is missing for both.
    if (ra == .NOENT and rb == .NOENT) return true;
    if (ra != .SUCCESS or rb != .SUCCESS) return false;
    return a.dev == b.dev and a.ino == b.ino;
}

/// Starts a server for `path` in the background, detached from the caller (its own session, a
/// grandchild reparented away, /dev/null stdio, cwd /, a clean signal state), unless one is
/// being started or runs: "<path>.lock" is flock'ed by the server for its whole life, so a
/// burst of fronts starts one server and the rest run directly meanwhile.
pub fn startServer(path: [:0]const u8, core: [:0]const u8) void {
    // Without kernel-attested identities no front would trust it; a restricted front would make
    // a server nobody fully privileged may use.
    if (linux.geteuid() != 0 or !ipc.peerPidfdSupported() or !unrestricted()) return;
    // Only in the host's mount namespace: one made elsewhere (a private /run, say) would outlive
    // the call where no caller outside that namespace can reach it, and keep the namespace and
    // its mounts alive; runc starts nothing that outlives a call.
    if (!inHostMountNamespace()) return;
    _ = linux.mkdirat(sys.AT_FDCWD, proto.server_dir, 0);
    closeDirToAll();
    if (!dirIsPrivate()) return;
    var lock_buf: [256]u8 = undefined;
    const lock_path = std.fmt.bufPrintZ(&lock_buf, "{s}.lock", .{path}) catch return;
    const opened = sys.fd(sys.openat(sys.AT_FDCWD, lock_path, sys.O_RDWR | sys.O_CREAT | sys.O_NOFOLLOW | sys.O_CLOEXEC, 0o600)) catch return;
    // The grandchild puts /dev/null on 0..2; the lock must not be one of them.
    const lock = raise(opened) orelse return;
    defer sys.close(lock);
    if (linux.E.init(linux.flock(lock, LOCK_EX | LOCK_NB)) != .SUCCESS) return; // being started, or running

    var serve_buf: [300]u8 = undefined;
    var lock_env_buf: [48]u8 = undefined;
    const serve_env = std.fmt.bufPrintZ(&serve_buf, "BUNRUNC_SERVE={s}", .{path}) catch return;
    const lock_env = std.fmt.bufPrintZ(&lock_env_buf, "BUNRUNC_SERVE_LOCK_FD={d}", .{lock}) catch return;
    // Bun's start raises the open-files soft limit to the hard one; the server puts ours back
    // (src/server/serve.ts), or no caller like us would have its context.
    var nofile_env_buf: [48]u8 = undefined;
    var nofile: linux.rlimit = undefined;
    const RLIMIT_NOFILE = 7;
    if (linux.E.init(linux.syscall4(.prlimit64, 0, RLIMIT_NOFILE, 0, @intFromPtr(&nofile))) != .SUCCESS) return;
    const nofile_env = std.fmt.bufPrintZ(&nofile_env_buf, "BUNRUNC_SERVE_NOFILE={d}", .{nofile.cur}) catch return;
    const argv = [_:null]?[*:0]const u8{"bunrunc-core"};
    const envp = [_:null]?[*:0]const u8{ serve_env, lock_env, nofile_env, server_path_env };

    // This process goes on to exec bunrunc-core for the call: a pidfd of it tells the server
    // when that call is over (close-on-exec: the call does not hold it).
    const starter: i32 = if (sys.fd(linux.pidfd_open(linux.getpid(), 0))) |f| raise(f) orelse -1 else |_| -1;
    defer if (starter >= 0) sys.close(starter);

    const rc = linux.fork();
    if (linux.E.init(rc) != .SUCCESS) return;
    if (rc == 0) {
        _ = linux.setsid();
        const grandchild = linux.fork();
        if (grandchild != 0) linux.exit_group(0);
        becomeServer(lock, starter, core, &argv, &envp);
    }
    const child: i32 = @intCast(rc);
    var status: u32 = 0;
    _ = sys.retry(linux.wait4, .{ child, &status, 0, null }) catch {};
}

/// How long the server's start waits for the call that started it, at most: a foreground `run`
/// of a long-lived container must not keep every later call on the direct path.
const starter_wait_ms_max = 100;

/// The server's start (Bun's, its modules, its cgroup joins) would compete with the first call,
/// which runs directly meanwhile and pays a Bun start of its own: on a 2-core host that call took
/// ~3 ms longer beside it, and starting the server at nice 19 did not help (bench/README.md). So
/// the server starts once that call has exited, or after starter_wait_ms_max. No pidfd: at once.
fn waitForStarter(starter: i32) void {
    if (starter < 0) return;
    var pfd = [_]linux.pollfd{.{ .fd = starter, .events = linux.POLL.IN, .revents = 0 }};
    _ = sys.retry(linux.poll, .{ &pfd, 1, starter_wait_ms_max }) catch {};
    sys.close(starter);
}

/// The inode the kernel gives the initial mount namespace (include/linux/proc_ns.h, Linux 6.18+;
/// before, it is one of the dynamic ones, all at or above 0xF0000000).
const init_mnt_ns_ino: u64 = 0xEFFF_FFF8;

/// Whether we are in the host's mount namespace: the initial one, or PID 1's (a container's
/// init, or any init on a kernel before 6.18). A /proc/1 we may not inspect (PID 1 holds
/// capabilities we lack) counts as another namespace: no server rather than a stray one.
fn inHostMountNamespace() bool {
    var ours: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(sys.AT_FDCWD, "/proc/self/ns/mnt", &ours, 0)) != .SUCCESS) return false;
    if (ours.ino == init_mnt_ns_ino) return true;
    return sameNamespace(1, "mnt");
}

/// A directory of ours left with other modes (an older bunrunc made it 0700) is closed to all
/// but CAP_DAC_OVERRIDE: only a real directory owned by our euid, never through a link.
fn closeDirToAll() void {
    const f = sys.fd(sys.openat(sys.AT_FDCWD, proto.server_dir, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW | sys.O_CLOEXEC, 0)) catch return;
    defer sys.close(f);
    var st: linux.Stat = undefined;
    if (linux.E.init(linux.fstat(f, &st)) != .SUCCESS or st.uid != linux.geteuid()) return;
    if (st.mode & 0o777 != 0) _ = linux.fchmod(f, 0);
}

fn raise(f: i32) ?i32 {
    if (f >= 3) return f;
    const F_DUPFD_CLOEXEC: i32 = 1030;
    const moved = sys.fd(linux.fcntl(f, F_DUPFD_CLOEXEC, 3)) catch {
        sys.close(f);
        return null;
    };
    sys.close(f);
    return moved;
}

fn becomeServer(lock: i32, starter: i32, core: [:0]const u8, argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8) noreturn {
    std.debug.assert(lock > 2 and lock != starter);
    const nul = sys.fd(sys.openat(sys.AT_FDCWD, "/dev/null", sys.O_RDWR, 0)) catch linux.exit_group(127);
    for (0..3) |i| {
        const target: i32 = @intCast(i);
        if (nul != target) _ = linux.dup3(nul, target, 0);
    }
    // Our 0..2 may have been closed, putting nul itself there (opened close-on-exec).
    if (nul > 2) sys.close(nul) else _ = linux.fcntl(nul, linux.F.SETFD, 0);
    _ = linux.chdir("/");
    // The server lives on: no fd of the caller's (a pipe an engine waits on for EOF, a
    // --preserve-fds fd) may stay open in it, nor while it waits for the call to end. Only the
    // lock is passed on.
    closeAllBut(lock, starter);
    // Nothing the first caller blocked or ignored applies to every later call.
    sys.resetSignals();
    waitForStarter(starter);
    _ = linux.fcntl(lock, linux.F.SETFD, 0);
    _ = linux.execve(core, argv, envp);
    linux.exit_group(127);
}

/// Closes every fd from 3 up except `a` and `b` (b may be -1).
fn closeAllBut(a: i32, b: i32) void {
    const max = std.math.maxInt(u32);
    const low: u32 = @intCast(if (b > 2) @min(a, b) else a);
    const high: u32 = @intCast(if (b > 2) @max(a, b) else a);
    if (low > 3) _ = sys.closeRange(3, low - 1, 0);
    if (high > low + 1) _ = sys.closeRange(low + 1, high - 1, 0);
    _ = sys.closeRange(high + 1, max, 0);
}

/// Whether we run in the initial user namespace: its uid_map is the identity over every id
/// ("0 0 4294967295"). Unreadable counts as not.
pub fn initialUserNs() bool {
    const f = sys.open("/proc/self/uid_map", sys.O_RDONLY) catch return false;
    defer sys.close(f);
    var map_buf: [128]u8 = undefined;
    const n = sys.check(linux.read(f, &map_buf, map_buf.len)) catch return false;
    var fields = std.mem.tokenizeAny(u8, map_buf[0..n], " \t\n");
    for ([_][]const u8{ "0", "0", "4294967295" }) |want| {
        const got = fields.next() orelse return false;
        if (!std.mem.eql(u8, got, want)) return false;
    }
    return fields.next() == null;
}
