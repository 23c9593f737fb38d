//! Every symbol bunrunc's TypeScript side calls through bun:ffi (src/ffi.ts declares the same
//! list). Conventions: a negative return is -errno; out-parameters are caller-owned buffers
//! whose sizes are checked at compile time here and at load time in src/ffi.ts.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const spawn_mod = @import("spawn.zig");
const idmap = @import("idmap.zig");
const netdev = @import("netdev.zig");

pub const abi_version: u32 = 11;

comptime {
    std.debug.assert(@sizeOf(spawn_mod.Result) == 16);
    std.debug.assert(@sizeOf(plan.Msg) == 512);
}

fn neg(rc: usize) i32 {
    const e = linux.E.init(rc);
    if (e != .SUCCESS) return -@as(i32, @intCast(@intFromEnum(e)));
    return @intCast(rc);
}

export fn bunrunc_abi_version() u32 {
    return abi_version;
}

export fn bunrunc_plan_version() u32 {
    return plan.version;
}

export fn bunrunc_msg_size() u32 {
    return @sizeOf(plan.Msg);
}

/// Spawns the container's init. Returns 0, or -errno with out.step naming the failed step.
export fn bunrunc_spawn(plan_ptr: [*]const u8, plan_len: u32, clone_flags: u64, keep_below: u32, extra_ptr: [*]const i32, extra_len: u32, wait_for_parent: u32, cgroup_fd: i32, join_ptr: [*]const i32, join_len: u32, out: *spawn_mod.Result) i32 {
    sys.last_errno = 0;
    spawn_mod.spawn(.{
        .plan = plan_ptr[0..plan_len],
        .clone_flags = clone_flags,
        .keep_below = keep_below,
        .extra_fds = extra_ptr[0..extra_len],
        .wait_for_parent = wait_for_parent != 0,
        .cgroup_fd = cgroup_fd,
        .cgroup_join_fds = join_ptr[0..join_len],
    }, out);
    if (out.step != 0) return -@as(i32, @max(sys.last_errno, 1));
    return 0;
}

/// A detached idmapped clone of `source` (zig/idmap.zig) for the init to attach. Returns its fd,
/// or -errno with out_step naming the failed step (idmap.Step). recursive: bit 0 clones the
/// submounts (rbind), bit 1 idmaps them too (ridmap).
export fn bunrunc_idmapped_tree(source: [*:0]const u8, recursive: u32, uid_ptr: [*]const u8, uid_len: u32, gid_ptr: [*]const u8, gid_len: u32, out_step: *i32) i32 {
    sys.last_errno = 0;
    if (uid_len == 0 or uid_len > 4096 or gid_len == 0 or gid_len > 4096) return -@as(i32, @intFromEnum(linux.E.INVAL));
    var step: idmap.Step = .none;
    const rc = idmap.idmappedTree(source, recursive & 1 != 0, recursive & 2 != 0, uid_ptr[0..uid_len], gid_ptr[0..gid_len], &step);
    out_step.* = @intFromEnum(step);
    return rc;
}

/// Moves interface `name` seen from netns from_fd (-1: ours) into netns to_fd as `new_name`,
/// addresses and up state kept (zig/netdev.zig). 0, or -errno with out_step (netdev.Step).
export fn bunrunc_netdev_move(from_fd: i32, name_ptr: [*]const u8, name_len: u32, to_fd: i32, new_ptr: [*]const u8, new_len: u32, out_step: *i32) i32 {
    sys.last_errno = 0;
    if (name_len == 0 or name_len > 15 or new_len == 0 or new_len > 15 or to_fd < 0) return -@as(i32, @intFromEnum(linux.E.INVAL));
    var step: netdev.Step = .none;
    netdev.move(from_fd, name_ptr[0..name_len], to_fd, new_ptr[0..new_len], &step) catch {
        out_step.* = @intFromEnum(step);
        return -@as(i32, @max(sys.last_errno, 1));
    };
    out_step.* = 0;
    return 0;
}

/// Receives one sync record, waiting at most timeout_ms (-1: forever). Returns its size, 0 on
/// EOF (the init is gone), or -errno (-ETIMEDOUT).
export fn bunrunc_sync_recv(fd: i32, buf: *plan.Msg, timeout_ms: i32) i32 {
    var pfd = [_]linux.pollfd{.{ .fd = fd, .events = linux.POLL.IN, .revents = 0 }};
    const ready = sys.retry(linux.poll, .{ &pfd, 1, timeout_ms }) catch return -sys.last_errno;
    if (ready == 0) return -@as(i32, @intFromEnum(linux.E.TIMEDOUT));
    return neg(linux.recvfrom(fd, std.mem.asBytes(buf), @sizeOf(plan.Msg), 0, null, null));
}

export fn bunrunc_sync_send(fd: i32, byte: u8) i32 {
    const b = [1]u8{byte};
    return neg(linux.sendto(fd, &b, 1, linux.MSG.NOSIGNAL, null, 0));
}

export fn bunrunc_pidfd_open(pid: i32) i32 {
    return neg(linux.pidfd_open(pid, 0));
}

export fn bunrunc_pidfd_send_signal(pidfd: i32, sig: i32) i32 {
    return neg(linux.pidfd_send_signal(pidfd, sig, null, 0));
}

/// waitid(P_PIDFD). out = {exited (1 if reaped), exit code or 0, terminating signal or 0}.
/// Returns 0, or -errno (-ECHILD: not our child).
export fn bunrunc_wait_pidfd(pidfd: i32, nohang: u32, out: *[3]i32) i32 {
    var info = std.mem.zeroes(linux.siginfo_t);
    const flags: u32 = linux.W.EXITED | @as(u32, if (nohang != 0) linux.W.NOHANG else 0);
    _ = sys.retry(linux.waitid, .{ linux.P.PIDFD, pidfd, &info, flags }) catch return -sys.last_errno;
    const pid = info.fields.common.first.piduid.pid;
    out.* = .{ 0, 0, 0 };
    if (pid == 0) return 0;
    const status = info.fields.common.second.sigchld.status;
    const CLD_EXITED = 1;
    out[0] = 1;
    if (info.code == CLD_EXITED) out[1] = status else out[2] = status;
    return 0;
}

export fn bunrunc_poll_fd(fd: i32, events: i16, timeout_ms: i32) i32 {
    var pfd = [_]linux.pollfd{.{ .fd = fd, .events = events, .revents = 0 }};
    const ready = sys.retry(linux.poll, .{ &pfd, 1, timeout_ms }) catch return -sys.last_errno;
    if (ready == 0) return 0;
    return pfd[0].revents;
}

export fn bunrunc_close(fd: i32) i32 {
    return neg(linux.close(fd));
}

export fn bunrunc_mkfifo(path: [*:0]const u8, mode: u32) i32 {
    return neg(sys.mknodat(sys.AT_FDCWD, path, linux.S.IFIFO | mode, 0));
}

/// Lazily detaches the topmost mount at `path` and everything under it (a container without a
/// mount namespace: its rootfs bind, at delete). UMOUNT_NOFOLLOW: a symlink is never followed.
export fn bunrunc_umount_detach(path: [*:0]const u8) i32 {
    const UMOUNT_NOFOLLOW: u32 = 8;
    return neg(linux.umount2(path, sys.MNT_DETACH | UMOUNT_NOFOLLOW));
}

/// The runtime's procfs as a handle nothing can cover or redirect: a clone of the /proc mount
/// (its own mount, nothing mounted over its files), proven to be procfs; opened once.
var proc_root: i32 = -1;

fn procRoot() sys.Errno!i32 {
    if (proc_root >= 0) return proc_root;
    // A user may not clone a mount (EPERM) and cannot mount over the host's /proc either: the
    // /proc it sees is the host's own, opened as it is (RESOLVE_NO_XDEV still keeps every write
    // on this one procfs).
    const f = sys.fd(sys.openTree(sys.AT_FDCWD, "/proc", sys.OPEN_TREE_CLONE | sys.O_CLOEXEC)) catch |e| switch (sys.last_errno) {
        @intFromEnum(linux.E.PERM) => try sys.open("/proc", sys.O_PATH | sys.O_DIRECTORY | sys.O_CLOEXEC),
        else => return e,
    };
    errdefer sys.close(f);
    if (try sys.fsMagic(f) != sys.PROC_SUPER_MAGIC) return sys.fail(.XDEV);
    proc_root = f;
    return f;
}

/// Writes `value` to /proc/<pid>/<name> (uid_map, gid_map, setgroups of a child we hold a pidfd
/// of) through procRoot: openat2 beneath it, no symlinks, never into another mount, the file on
/// procfs; the pidfd still alive after the write, so the pid was that child's. Returns 0 or -errno.
export fn bunrunc_proc_write(pidfd: i32, pid: i32, name: [*:0]const u8, value: [*]const u8, len: u32) i32 {
    std.debug.assert(pid > 0);
    const rootfd = procRoot() catch return -sys.last_errno;
    var path_buf: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "{d}/{s}", .{ pid, std.mem.span(name) }) catch return -@as(i32, @intFromEnum(linux.E.NAMETOOLONG));
    const how = sys.OpenHow{
        .flags = sys.O_WRONLY | sys.O_CLOEXEC | sys.O_NOFOLLOW,
        .mode = 0,
        .resolve = sys.RESOLVE_BENEATH | sys.RESOLVE_NO_SYMLINKS | sys.RESOLVE_NO_MAGICLINKS | sys.RESOLVE_NO_XDEV,
    };
    const f = sys.fd(sys.openat2(rootfd, path, &how)) catch return -sys.last_errno;
    defer sys.close(f);
    const magic = sys.fsMagic(f) catch return -sys.last_errno;
    if (magic != sys.PROC_SUPER_MAGIC) return -@as(i32, @intFromEnum(linux.E.XDEV));
    sys.writeAll(f, value[0..len]) catch return -sys.last_errno;
    if (!ipc.pidfdAlive(pidfd)) return -@as(i32, @intFromEnum(linux.E.SRCH));
    return 0;
}

/// A connected AF_UNIX stream socket (close-on-exec) for --console-socket.
export fn bunrunc_unix_connect(path: [*:0]const u8) i32 {
    var addr = std.mem.zeroes(linux.sockaddr.un);
    addr.family = linux.AF.UNIX;
    const p = std.mem.span(path);
    if (p.len >= addr.path.len) return -@as(i32, @intFromEnum(linux.E.NAMETOOLONG));
    @memcpy(addr.path[0..p.len], p);
    const s = neg(linux.socket(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0));
    if (s < 0) return s;
    const rc = neg(linux.connect(s, @ptrCast(&addr), @sizeOf(linux.sockaddr.un)));
    if (rc < 0) {
        sys.close(s);
        return rc;
    }
    return s;
}

export fn bunrunc_flock(fd: i32, op: i32) i32 {
    return neg(sys.retry(linux.flock, .{ fd, op }) catch return -sys.last_errno);
}

/// `run` in the foreground: orphans of the container reparent to us and are reaped, as runc does.
export fn bunrunc_set_child_subreaper() i32 {
    const PR_SET_CHILD_SUBREAPER = 36;
    return neg(linux.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

const tty = @import("tty.zig");

/// exec/run terminals: a close-on-exec AF_UNIX stream pair (the pty master comes back on it).
export fn bunrunc_socketpair(out: *[2]i32) i32 {
    return tty.socketpair(out);
}

/// Receives one SCM_RIGHTS fd (close-on-exec); its message bytes go to name (name_len.* of them).
export fn bunrunc_recv_fd(sock: i32, timeout_ms: i32, name: [*]u8, name_cap: u32, name_len: *u32) i32 {
    return tty.recvFd(sock, timeout_ms, name[0..name_cap], name_len);
}

/// Sends fd with SCM_RIGHTS and `name` (name_len > 0 bytes) as the message (--pidfd-socket).
export fn bunrunc_send_fd(sock: i32, fd: i32, name: [*]const u8, name_len: u32) i32 {
    if (name_len == 0) return -@as(i32, @intFromEnum(linux.E.INVAL));
    return tty.sendFd(sock, fd, name[0..name_len]);
}

/// restore of a terminal container: a new pty from `ptmx`; out = {master, slave, number}.
export fn bunrunc_open_pty(ptmx: [*:0]const u8, out: *[3]i32) i32 {
    return tty.openPty(ptmx, out);
}

export fn bunrunc_get_winsize(fd: i32, out: *[2]u16) i32 {
    return tty.getWinsize(fd, out);
}

export fn bunrunc_set_winsize(fd: i32, rows: u32, cols: u32) i32 {
    return tty.setWinsize(fd, @truncate(rows), @truncate(cols));
}

/// Raw mode on our own terminal; `saved` (64 bytes) keeps what bunrunc_tty_restore puts back.
export fn bunrunc_tty_raw(fd: i32, saved: *[tty.saved_termios_size]u8) i32 {
    return tty.makeRaw(fd, saved);
}

export fn bunrunc_tty_restore(fd: i32, saved: *const [tty.saved_termios_size]u8) i32 {
    return tty.restore(fd, saved);
}

export fn bunrunc_init_size() u32 {
    return @intCast(@embedFile("init_elf").len);
}

const cg_devices = @import("cgroups/devices.zig");
const cg_oom = @import("cgroups/oom.zig");

comptime {
    std.debug.assert(@sizeOf(cg_devices.Rule) == 12);
}

/// cgroup v2 device filter: loads a BPF_CGROUP_DEVICE program for `count` exceptions to the
/// default verdict, attaches it to the cgroup dir at `path` and detaches the ones before it.
/// Returns 0, or -errno with stage.* naming the failed step (zig/cgroups/devices.zig Stage).
export fn bunrunc_cg_devices_attach(path: [*:0]const u8, rules: [*]const cg_devices.Rule, count: u32, default_allow: u32, stage: *u32) i32 {
    return cg_devices.attach(path, rules, count, default_allow != 0, stage);
}

/// Number of device programs attached to the cgroup dir at `path`, or -errno.
export fn bunrunc_cg_devices_count(path: [*:0]const u8) i32 {
    return cg_devices.attachedCount(path);
}

/// A non-blocking close-on-exec eventfd (cgroup v1 OOM notifications), or -errno.
export fn bunrunc_eventfd() i32 {
    return cg_oom.eventfd();
}

const seccomp = @import("seccomp/compile.zig");
const seccomp_probe = @import("seccomp/probe.zig");

comptime {
    std.debug.assert(@sizeOf(seccomp.Report) == 4 * (5 + seccomp.report_unknown_max));
}

/// Compiles a linux.seccomp description (zig/seccomp/input.zig) into `out` (sock_filter
/// entries, at most out_cap) using `scratch` as its only memory. Returns the instruction count,
/// or -EINVAL (bad input; report.error_rule names the rule), -E2BIG (longer than BPF_MAXINSNS
/// or out_cap), -ENOMEM (scratch too small).
export fn bunrunc_seccomp_compile(in_ptr: [*]const u8, in_len: u32, out: [*]seccomp.Insn, out_cap: u32, scratch: [*]u8, scratch_len: u32, report: *seccomp.Report) i32 {
    if (out_cap == 0) return -@as(i32, @intFromEnum(linux.E.INVAL));
    const prog = seccomp.compile(in_ptr[0..in_len], out[0..out_cap], scratch[0..scratch_len], report) catch |e| {
        return -@as(i32, @intFromEnum(switch (e) {
            error.BadInput => linux.E.INVAL,
            error.ProgramTooLarge => linux.E.@"2BIG",
            error.OutOfMemory => linux.E.NOMEM,
        }));
    };
    return @intCast(prog.len);
}

/// Seccomp filter flags and actions this kernel supports (zig/seccomp/probe.zig bit layout).
export fn bunrunc_seccomp_probe() u32 {
    return seccomp_probe.probe();
}

const ipc = @import("ipc.zig");

/// The resident server's listening socket at `path` (SOCK_SEQPACKET, a 0600 file replacing any
/// stale one), or -errno.
export fn bunrunc_server_listen(path: [*:0]const u8) i32 {
    return ipc.listenPath(path, 128);
}

/// The next front's connection, waiting at most timeout_ms; -ETIMEDOUT when none.
export fn bunrunc_server_accept(listener: i32, timeout_ms: i32) i32 {
    return ipc.accept(listener, timeout_ms);
}

/// Polls `n` fds for input (or hangup) at most timeout_ms; ready[i] = 1 for each that has it.
/// Returns how many are ready, or -errno.
export fn bunrunc_poll_many(fds: [*]const i32, n: u32, ready: [*]u8, timeout_ms: i32) i32 {
    const n_max = 1024;
    if (n > n_max) return -@as(i32, @intFromEnum(linux.E.INVAL));
    var pfds: [n_max]linux.pollfd = undefined;
    for (0..n) |i| pfds[i] = .{ .fd = fds[i], .events = linux.POLL.IN, .revents = 0 };
    const got = sys.retry(linux.poll, .{ &pfds, n, timeout_ms }) catch return -sys.last_errno;
    for (0..n) |i| ready[i] = @intFromBool(pfds[i].revents != 0);
    return @intCast(got);
}

/// SO_PEERPIDFD: a pidfd (close-on-exec) of the process that connected; -ENOPROTOOPT before
/// Linux 6.5.
export fn bunrunc_peer_pidfd(sock: i32) i32 {
    return ipc.peerPidfd(sock);
}

/// Sets close-on-exec on an inherited fd (the server's start lock must not reach its children).
export fn bunrunc_set_cloexec(f: i32) i32 {
    return neg(linux.fcntl(f, linux.F.SETFD, linux.FD_CLOEXEC));
}

/// One message with its fds (close-on-exec); returns its length (0: the peer closed) or -errno.
export fn bunrunc_msg_recv(sock: i32, timeout_ms: i32, buf: [*]u8, cap: u32, fds: [*]i32, fds_cap: u32, nfds: *u32) i32 {
    return ipc.recv(sock, buf[0..cap], fds[0..fds_cap], nfds, timeout_ms);
}

/// One message with `nfds` fds attached; returns its length or -errno.
export fn bunrunc_msg_send(sock: i32, buf: [*]const u8, len: u32, fds: [*]const i32, nfds: u32) i32 {
    const rc = ipc.send(sock, buf[0..len], fds[0..nfds]);
    // A spawn record with a large seccomp program can outgrow the default buffer: grow, retry once.
    if (rc != -@as(i32, @intFromEnum(linux.E.MSGSIZE)) and rc != -@as(i32, @intFromEnum(linux.E.NOBUFS))) return rc;
    ipc.growSendBuffer(sock, len + 4096);
    return ipc.send(sock, buf[0..len], fds[0..nfds]);
}

/// dup2 (dup3 without flags; same fd is a no-op): the server points its stdio at a caller's.
/// RLIMIT_NOFILE's soft limit set to `soft` (at most the hard limit): the resident server puts
/// back the one its starter had, which Bun's own start raised to the hard limit (a caller's
/// whole context, limits included, must equal the server's for it to be served).
export fn bunrunc_set_nofile_soft(soft: u64) i32 {
    const RLIMIT_NOFILE = 7;
    var lim: linux.rlimit = undefined;
    const got = linux.syscall4(.prlimit64, 0, RLIMIT_NOFILE, 0, @intFromPtr(&lim));
    if (linux.E.init(got) != .SUCCESS) return neg(got);
    if (soft > lim.max) return -@as(i32, @intFromEnum(linux.E.INVAL));
    lim.cur = soft;
    return neg(linux.syscall4(.prlimit64, 0, RLIMIT_NOFILE, @intFromPtr(&lim), 0));
}

/// An anonymous close-on-exec memory file (a hook's stdin and stderr in the resident server: no
/// file is made in a directory a caller names), or -errno.
export fn bunrunc_memfd_create(name: [*:0]const u8) i32 {
    return neg(linux.memfd_create(name, linux.MFD.CLOEXEC));
}

export fn bunrunc_dup2(old: i32, new: i32) i32 {
    if (old == new) return new;
    return neg(linux.dup3(old, new, 0));
}

test {
    _ = plan;
    _ = @import("seccomp/tests.zig");
    _ = cg_devices;
}
