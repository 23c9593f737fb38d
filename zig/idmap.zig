//! Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP), made on the host side: the kernel lets only
//! a caller privileged over the filesystem's own user namespace (the host's, for a host
//! filesystem) idmap a mount, which a container's init in its user namespace is not. The mount is
//! a detached clone of the bind source (open_tree), idmapped through a user namespace that exists
//! only for this call; its fd goes to the init, which attaches it with move_mount.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");

const MOUNT_ATTR_IDMAP: u64 = 0x100000;
const OPEN_TREE_CLOEXEC: u32 = 0o2000000;
const CLONE_PIDFD: u64 = 0x1000;
const map_bytes_max = 4096;

/// Which step failed, for the caller's message.
pub const Step = enum(i32) { none = 0, userns = 1, uid_map = 2, gid_map = 3, open_tree = 4, setattr = 5 };

/// A detached, idmapped clone of `source` (clone_recursive: with its submounts, as rbind;
/// idmap_recursive: the submounts idmapped too, as ridmap). `uid_map`/`gid_map`
/// are /proc/PID/uid_map text ("inside outside count\n"...), the mapping of the user namespace
/// the mount is idmapped through. Returns the mount's fd, or -errno with `step` set.
pub fn idmappedTree(source: [*:0]const u8, clone_recursive: bool, idmap_recursive: bool, uid_map: []const u8, gid_map: []const u8, step: *Step) i32 {
    std.debug.assert(uid_map.len > 0 and uid_map.len <= map_bytes_max);
    std.debug.assert(gid_map.len > 0 and gid_map.len <= map_bytes_max);
    step.* = .none;
    const userns = usernsWithMaps(uid_map, gid_map, step) catch return -sys.last_errno;
    defer sys.close(userns);
    const tree = sys.fd(sys.openTree(sys.AT_FDCWD, source, sys.OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | if (clone_recursive) sys.AT_RECURSIVE else 0)) catch {
        step.* = .open_tree;
        return -sys.last_errno;
    };
    const attr = sys.MountAttr{ .attr_set = MOUNT_ATTR_IDMAP, .attr_clr = 0, .propagation = 0, .userns_fd = @intCast(userns) };
    _ = sys.check(sys.mountSetattr(tree, "", sys.AT_EMPTY_PATH | if (idmap_recursive) sys.AT_RECURSIVE else 0, &attr)) catch {
        step.* = .setattr;
        sys.close(tree);
        return -sys.last_errno;
    };
    return tree;
}

/// A user namespace with these maps, as an fd: a child made with CLONE_NEWUSER waits (pause)
/// while its maps are written and its namespace opened, then is killed and reaped.
fn usernsWithMaps(uid_map: []const u8, gid_map: []const u8, step: *Step) sys.Errno!i32 {
    var pidfd: i32 = -1;
    var args = std.mem.zeroes(sys.CloneArgs);
    args.flags = linux.CLONE.NEWUSER | CLONE_PIDFD;
    args.pidfd = @intFromPtr(&pidfd);
    args.exit_signal = 0; // no SIGCHLD: the caller's runtime must not reap it first
    // No signal handler of the caller may run in the child; it only waits to be killed.
    var old_mask: linux.sigset_t = undefined;
    sys.blockAll(&old_mask);
    const rc = sys.clone3(&args);
    if (rc == 0) while (true) {
        _ = linux.syscall0(.pause);
    };
    sys.setMask(&old_mask);
    const pid: i32 = @intCast(sys.check(rc) catch |e| {
        step.* = .userns;
        return e;
    });
    defer {
        _ = linux.syscall4(.pidfd_send_signal, @as(usize, @intCast(pidfd)), linux.SIG.KILL, 0, 0);
        var info = std.mem.zeroes(linux.siginfo_t);
        _ = sys.retry(linux.waitid, .{ linux.P.PIDFD, pidfd, &info, linux.W.EXITED | 0x40000000 }) catch {}; // __WALL
        sys.close(pidfd);
    }
    try writeProc(pid, "uid_map", uid_map, step, .uid_map);
    try writeProc(pid, "gid_map", gid_map, step, .gid_map);
    var path: [64]u8 = undefined;
    const ns = std.fmt.bufPrintZ(&path, "/proc/{d}/ns/user", .{pid}) catch unreachable;
    return sys.open(ns, sys.O_RDONLY | sys.O_CLOEXEC) catch |e| {
        step.* = .userns;
        return e;
    };
}

fn writeProc(pid: i32, file: []const u8, text: []const u8, step: *Step, which: Step) sys.Errno!void {
    var path: [64]u8 = undefined;
    const p = std.fmt.bufPrintZ(&path, "/proc/{d}/{s}", .{ pid, file }) catch unreachable;
    step.* = which;
    const f = try sys.open(p, sys.O_WRONLY | sys.O_CLOEXEC);
    defer sys.close(f);
    // The kernel takes a map in one write.
    const n = try sys.check(linux.write(f, text.ptr, text.len));
    if (n != text.len) return sys.fail(.INVAL);
    step.* = .none;
}
