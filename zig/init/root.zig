//! The rootfs itself: propagation of "/", the rootfs bind mount, pivot_root or --no-pivot's
//! MS_MOVE + chroot, and root.readonly.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");

const Error = ctx.Error;
const Reader = plan.Reader;

const propagation_bits: u64 = sys.MS.UNBINDABLE | sys.MS.PRIVATE | sys.MS.SLAVE | sys.MS.SHARED | sys.MS.REC;
// statfs f_flags bits that a bind remount must keep when the kernel locks them.
const ST_LOCKABLE: u64 = sys.MS.RDONLY | sys.MS.NOSUID | sys.MS.NODEV | sys.MS.NOEXEC | 1024 | 2048;

/// rootfsPropagation applied to "/" again once it is the container's root (0 = none).
var final_propagation: u64 = 0;

/// flags u64 (on "/" now), final u64 (on the new "/" after pivot_root; 0 = none).
pub fn rootPropagation(r: *Reader) Error!void {
    const flags = try r.u64_();
    final_propagation = try r.u64_();
    if (flags & ~propagation_bits != 0 or final_propagation & ~propagation_bits != 0) return error.BadPlan;
    _ = try sys.check(sys.mount("none", "/", null, flags, null));
}

/// rootfs str, parent_propagation u64 (MS_PRIVATE or MS_SLAVE). The mount holding the rootfs
/// must not be shared: pivot_root refuses a shared parent, and the bind below would propagate
/// to the host. Walk up from the rootfs until mount(2) accepts a path (EINVAL = not a mount point).
pub fn bindRootfs(r: *Reader) Error!void {
    const rootfs = try r.str();
    const parent_flags = try r.u64_();
    if (rootfs.len == 0 or rootfs[0] != '/') return error.BadPlan;
    if (parent_flags != sys.MS.PRIVATE and parent_flags != sys.MS.SLAVE) return error.BadPlan;
    var buf: [plan.string_bytes_max + 1]u8 = undefined;
    @memcpy(buf[0..rootfs.len], rootfs);
    var len = rootfs.len;
    while (true) {
        buf[len] = 0;
        const rc = sys.mount("none", @ptrCast(&buf), null, parent_flags, null);
        if (linux.E.init(rc) == .SUCCESS) break;
        if (linux.E.init(rc) != .INVAL or len == 1) {
            ctx.setDetail("make the mount holding {s} private", .{buf[0..len]});
            _ = try sys.check(rc);
        }
        len = std.mem.lastIndexOfScalar(u8, buf[0..len], '/') orelse 0;
        if (len == 0) len = 1;
    }
    _ = try sys.check(sys.mount(rootfs, rootfs, null, sys.MS.BIND | sys.MS.REC, null));
    ctx.root_fd = try sys.open(rootfs, sys.O_PATH | sys.O_DIRECTORY);
}

fn applyFinalPropagation() Error!void {
    if (final_propagation == 0) return;
    _ = sys.check(sys.mount("none", "/", null, final_propagation, null)) catch |e| {
        ctx.setDetail("apply rootfsPropagation to /", .{});
        return e;
    };
}

pub fn pivotRoot() Error!void {
    std.debug.assert(ctx.root_fd >= 0);
    const old_root = try sys.open("/", sys.O_DIRECTORY | sys.O_RDONLY);
    defer sys.close(old_root);
    _ = try sys.check(linux.fchdir(ctx.root_fd));
    _ = try sys.check(sys.pivotRoot(".", "."));
    // The old root is now stacked under "."; detach it without propagating to the host.
    _ = try sys.check(linux.fchdir(old_root));
    _ = try sys.check(sys.mount("none", ".", null, sys.MS.SLAVE | sys.MS.REC, null));
    _ = try sys.check(linux.umount2(".", sys.MNT_DETACH));
    _ = try sys.check(linux.chdir("/"));
    try applyFinalPropagation();
}

/// hide strs: the host's full proc and sysfs mounts outside the rootfs. --no-pivot leaves the
/// old root in the mount namespace, and a full procfs there would let the container mount a
/// fresh one: detach them first (or cover them with a tmpfs when detaching is refused).
pub fn moveRoot(r: *Reader) Error!void {
    std.debug.assert(ctx.root_fd >= 0);
    const n = try r.strsCount();
    for (0..n) |_| {
        const path = try r.str();
        const slave = sys.mount("none", path, null, sys.MS.SLAVE | sys.MS.REC, null);
        // A parent already detached took this one with it.
        if (linux.E.init(slave) == .NOENT) continue;
        _ = try sys.check(slave);
        const rc = linux.umount2(path, sys.MNT_DETACH);
        if (linux.E.init(rc) == .INVAL or linux.E.init(rc) == .PERM) {
            _ = try sys.check(sys.mount("tmpfs", path, "tmpfs", 0, null));
        } else {
            _ = try sys.check(rc);
        }
    }
    _ = try sys.check(linux.fchdir(ctx.root_fd));
    _ = try sys.check(sys.mount(".", "/", null, sys.MS.MOVE, null));
    _ = try sys.check(linux.chroot("."));
    _ = try sys.check(linux.chdir("/"));
    try applyFinalPropagation();
}

pub fn readonlyRoot() Error!void {
    _ = try sys.check(sys.mount("none", "/", null, sys.MS.BIND | sys.MS.REMOUNT | sys.MS.RDONLY | try lockedFlags("/"), null));
}

pub fn lockedFlags(path: [*:0]const u8) sys.Errno!u64 {
    // struct statfs is 15 words on x86_64 and aarch64; f_flags is word 10.
    var st: [16]u64 = undefined;
    _ = try sys.check(linux.syscall2(.statfs, @intFromPtr(path), @intFromPtr(&st)));
    return st[10] & ST_LOCKABLE;
}
