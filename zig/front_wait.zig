//! The front's foreground wait: a `run` or `exec` the server hands back (a Wait record) is waited
//! for here, in the caller's process, forwarding the caller's signals to it as runc does, and
//! reaping whatever else reparents to a subreaper front. Split from front.zig, which it serves.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const front = @import("front.zig");

/// The forwarded signals, held (blocked) and read from signal_fd while the front waits.
pub var signals_held = false;
pub var signal_fd: i32 = -1;

/// The signals a foreground front passes on to the process it waits for, as runc does.
fn forwardedSet() linux.sigset_t {
    var set = linux.empty_sigset;
    inline for (.{ linux.SIG.INT, linux.SIG.TERM, linux.SIG.HUP, linux.SIG.QUIT, linux.SIG.USR1, linux.SIG.USR2, linux.SIG.WINCH }) |sig|
        linux.sigaddset(&set, sig);
    return set;
}

/// Blocks the forwarded set and SIGCHLD: from here on they queue for signal_fd. spawn.zig's
/// child and the init both reset the mask, so the container does not inherit it.
pub fn holdSignals() void {
    if (signals_held) return;
    var set = forwardedSet();
    linux.sigaddset(&set, linux.SIG.CHLD);
    _ = linux.sigprocmask(linux.SIG.BLOCK, &set, null);
    signals_held = true;
}

pub fn defaultSigchld() void {
    const act = linux.Sigaction{ .handler = .{ .handler = linux.SIG.DFL }, .mask = linux.empty_sigset, .flags = 0 };
    _ = linux.sigaction(linux.SIG.CHLD, &act, null);
}

/// Waits for `pid` (normally our child: the init, or an exec's process) and forwards the held
/// signals to it. Returns its exit code: the status, or 128 + the terminating signal. Other
/// children (orphans reparented to us as subreaper) are reaped and ignored.
pub fn waitFor(pid: i32) u8 {
    if (pid <= 0) front.protocolError("a Wait for no process");
    holdSignals();
    if (signal_fd < 0) {
        var set = forwardedSet();
        linux.sigaddset(&set, linux.SIG.CHLD);
        const f = sys.fd(linux.signalfd(-1, &set, linux.SFD.CLOEXEC)) catch front.fail(&.{"bunrunc: signalfd failed"});
        signal_fd = front.raise(f, 3) catch f;
    }
    // For forwarding, and for a pid that is not our child: readable once it exits.
    var pidfd: i32 = sys.fd(linux.pidfd_open(pid, 0)) catch -1;
    if (pidfd >= 0) pidfd = front.raise(pidfd, 3) catch pidfd;
    defer if (pidfd >= 0) sys.close(pidfd);

    // A SIGCHLD that came before the signals were held is not queued: reap first.
    if (reap(pid)) |code| return code;
    // Nothing to watch: no pidfd (the pid is gone) and no child that could still become it.
    if (pidfd < 0 and !haveChildren()) return 0;
    // The pid exited (its pidfd is readable) without becoming our child: only a process that is
    // not our descendant does that, or one whose parent (our child) has yet to exit.
    var exited_elsewhere = false;
    while (true) {
        var pfd = [2]linux.pollfd{
            .{ .fd = signal_fd, .events = linux.POLL.IN, .revents = 0 },
            .{ .fd = pidfd, .events = linux.POLL.IN, .revents = 0 },
        };
        const watched: usize = if (pidfd >= 0 and !exited_elsewhere) 2 else 1;
        _ = sys.retry(linux.poll, .{ &pfd, watched, -1 }) catch front.fail(&.{"bunrunc: poll failed while waiting"});
        if (watched == 2 and pfd[1].revents != 0) {
            exited_elsewhere = true;
            if (reap(pid)) |code| return code;
            if (!haveChildren()) return 0;
        }
        if (pfd[0].revents == 0) continue;
        var infos: [16]linux.signalfd_siginfo = undefined;
        const got = sys.retry(linux.read, .{ signal_fd, std.mem.sliceAsBytes(&infos).ptr, @sizeOf(@TypeOf(infos)) }) catch continue;
        const count = got / @sizeOf(linux.signalfd_siginfo);
        for (infos[0..count]) |info| {
            if (info.signo == linux.SIG.CHLD) {
                if (reap(pid)) |code| return code;
                // No child left and the pid gone: it was never ours to reap.
                if (exited_elsewhere and !haveChildren()) return 0;
            } else if (pidfd >= 0) {
                _ = linux.pidfd_send_signal(pidfd, @intCast(info.signo), null, 0);
            }
        }
        // Not our child and no pidfd to watch: only the children we do have can end the wait.
        if (pidfd < 0 and !haveChildren()) return 0;
    }
}

/// The processes this front cloned for the call (spawn.zig), so a failed call can reap them.
/// A call clones one (create, run, exec); a few more fit, more are left to the caller's reaper.
const cloned_max = 4;
var cloned: [cloned_max]i32 = undefined;
var cloned_count: usize = 0;
/// A Spawn asked us to be a child subreaper: an exec's process comes back to us once its
/// intermediate exits.
pub var subreaper = false;

pub fn noteCloned(pid: i32) void {
    std.debug.assert(pid > 0);
    if (cloned_count == cloned_max) return;
    cloned[cloned_count] = pid;
    cloned_count += 1;
}

/// The call failed (a non-zero Exit): the server has killed what we cloned and seen it exit
/// (src/lib/init-handshake.ts), but only we can reap it. Reap it, and as a subreaper whatever
/// came back to us (an exec's process, after its intermediate), so a failed call leaves no
/// zombie in the container or on the caller, as a failed runc call leaves none. Never blocks:
/// a process the kill has not ended yet is left to the caller's reaper. A call that succeeded
/// reaps nothing: an init that exited already is the caller's (a shim reads its status). (A
/// foreground run's non-zero code also comes as Exit, after waitFor reaped its process: then
/// there is nothing left to reap but orphans, which waitFor reaps too.)
pub fn reapFailedCall() void {
    for (cloned[0..cloned_count]) |pid| {
        var info: linux.siginfo_t = undefined;
        _ = linux.waitid(.PID, pid, &info, linux.W.EXITED | linux.W.NOHANG);
    }
    if (subreaper) _ = reap(0); // no pid of interest: every exited child
}

/// Reaps every child that has exited; the exit code if `pid` was one of them.
fn reap(pid: i32) ?u8 {
    while (true) {
        var status: u32 = 0;
        const rc = linux.wait4(-1, &status, linux.W.NOHANG, null);
        const e = linux.E.init(rc);
        if (e == .INTR) continue;
        if (e != .SUCCESS or rc == 0) return null; // ECHILD, or none exited yet
        if (@as(i32, @intCast(rc)) != pid) continue;
        if (linux.W.IFEXITED(status)) return linux.W.EXITSTATUS(status);
        return @truncate(128 + linux.W.TERMSIG(status));
    }
}

fn haveChildren() bool {
    var info: linux.siginfo_t = undefined;
    const rc = linux.waitid(.ALL, 0, &info, linux.W.EXITED | linux.W.NOHANG | linux.W.NOWAIT);
    return linux.E.init(rc) != .CHILD;
}
