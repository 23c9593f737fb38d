//! A container without a mount namespace of its own (the spec allows it; runc runs it): its
//! mounts are made in the runtime's mount namespace, so they go under one bind mount of the
//! rootfs, made private so nothing mounted beneath it propagates to the host, and `delete`
//! detaches that bind with everything under it. The host's own mounts keep their propagation
//! (runc makes "/" rslave there). No pivot_root either: the init chroots into the bind.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");

const Error = ctx.Error;
const Reader = plan.Reader;

/// rootfs str (absolute host path) — bind the rootfs onto itself (recursive), make that bind
/// rprivate, open it as the rootfs dirfd.
pub fn bindRootfsPrivate(r: *Reader) Error!void {
    const rootfs = try r.str();
    if (rootfs.len == 0 or rootfs[0] != '/') return error.BadPlan;
    std.debug.assert(ctx.root_fd < 0);
    _ = sys.check(sys.mount(rootfs, rootfs, null, sys.MS.BIND | sys.MS.REC, null)) catch |e| {
        ctx.setDetail("bind {s} onto itself", .{rootfs});
        return e;
    };
    _ = sys.check(sys.mount("none", rootfs, null, sys.MS.PRIVATE | sys.MS.REC, null)) catch |e| {
        ctx.setDetail("make the bind of {s} private", .{rootfs});
        return e;
    };
    ctx.root_fd = try sys.open(rootfs, sys.O_PATH | sys.O_DIRECTORY);
}

/// fd i32 — chroot into the directory fd (exec: the container init's root, opened by the
/// runtime), or into the rootfs dirfd when -1 (create), and chdir to its "/".
pub fn chrootRootfs(r: *Reader) Error!void {
    const given = try r.i32_();
    if (given < -1) return error.BadPlan;
    const dir = if (given == -1) ctx.root_fd else given;
    std.debug.assert(dir >= 0);
    _ = try sys.check(linux.fchdir(dir));
    _ = try sys.check(linux.chroot("."));
    _ = try sys.check(linux.chdir("/"));
}
