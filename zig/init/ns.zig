//! Namespace ops: join by path or through a pidfd, unshare after the runtime's setup (cgroup),
//! and a new time namespace with its clock offsets.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");

const Error = ctx.Error;
const Reader = plan.Reader;

const CLONE_NEWTIME: u32 = 0x80;
const CLONE_NEWCGROUP: u32 = 0x2000000;

pub fn setnsPath(r: *Reader) Error!void {
    const nstype = try r.u32_();
    const path = try r.str();
    const fd = try sys.open(path, sys.O_RDONLY);
    defer sys.close(fd);
    _ = try sys.check(sys.setns(fd, nstype));
}

pub fn setnsPidfd(r: *Reader) Error!void {
    const mask = try r.u32_();
    const pidfd = try r.i32_();
    _ = try sys.check(sys.setns(pidfd, mask));
}

/// flags u32. Only namespaces that must be made after the init is in its cgroup come here.
pub fn unshare(r: *Reader) Error!void {
    const flags = try r.u32_();
    if (flags & ~CLONE_NEWCGROUP != 0) return error.BadPlan;
    _ = try sys.check(linux.unshare(flags));
}

/// offsets str ("monotonic <secs> <nanosecs>\nboottime ..."; may be empty). A time namespace
/// takes offsets only while no process is in it, so: unshare (only children would enter),
/// write the offsets, then setns into it ourselves (allowed for a single-threaded process).
pub fn timeNs(r: *Reader) Error!void {
    const offsets = try r.str();
    _ = sys.check(linux.unshare(CLONE_NEWTIME)) catch |e| {
        ctx.setDetail("unshare the time namespace", .{});
        return e;
    };
    if (offsets.len > 0) {
        @import("procfs.zig").write("self/timens_offsets", offsets) catch |e| {
            ctx.setDetail("write /proc/self/timens_offsets", .{});
            return e;
        };
    }
    const ns = try sys.open("/proc/self/ns/time_for_children", sys.O_RDONLY);
    defer sys.close(ns);
    _ = sys.check(sys.setns(ns, CLONE_NEWTIME)) catch |e| {
        ctx.setDetail("enter the new time namespace", .{});
        return e;
    };
}
