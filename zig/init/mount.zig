//! The Mount op, before pivot_root. The destination is resolved once, with openat2
//! (RESOLVE_IN_ROOT) against the rootfs fd, to an O_PATH fd; the new mount is built detached
//! (open_tree(OPEN_TREE_CLONE) of a bind source, fsopen/fsconfig/fsmount of a filesystem),
//! checked, and attached onto that fd with move_mount. Its flags, propagation and recursive
//! attributes are then applied through the mount's own fd. No path is looked up twice, so a
//! symlink swapped into a shared volume meanwhile cannot move any step elsewhere (the
//! CVE-2021-30465 class), and nothing can be mounted outside the rootfs.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");
const rootfs = @import("root.zig");
const inroot = @import("inroot.zig");

const Error = ctx.Error;
const Reader = plan.Reader;

const mkdir_none = 0;
const mkdir_dir = 1;
const mkdir_file = 2;

// mount(2) flags the new mount API spells differently.
const MS_NOSYMFOLLOW: u64 = 0x100;
const MS_SYNCHRONOUS: u64 = 0x10;
const MS_DIRSYNC: u64 = 0x80;
const MS_NOATIME: u64 = 0x400;
const MS_NODIRATIME: u64 = 0x800;
const MS_STRICTATIME: u64 = 1 << 24;
const MS_LAZYTIME: u64 = 1 << 25;
const MOUNT_ATTR_NOATIME: u64 = 0x10;
const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x200000;

/// onto_proc bit: the destination may be a file on procfs (lxcfs-style binds the plan allows).
const onto_proc_file = 1;

fn target(dest: [:0]const u8, mkdir: u32) sys.Errno!i32 {
    switch (mkdir) {
        mkdir_dir => return inroot.mkdirAll(dest),
        mkdir_file => if (try inroot.mkfile(dest)) |made| return made,
        else => {},
    }
    return inroot.open(dest, sys.O_PATH);
}

/// source str, dest str, fstype str, flags u64, data str, propagation u64, attr_set u64,
/// attr_clr u64, mkdir u32, tmpcopyup u32, onto_proc u32, tree_fd i32 (see src/plan/wire.ts).
pub fn mount(r: *Reader) Error!void {
    const source = try r.str();
    const dest = try r.str();
    const fstype = try r.str();
    const flags = try r.u64_();
    const data = try r.str();
    const propagation = try r.u64_();
    const attr_set = try r.u64_();
    const attr_clr = try r.u64_();
    const mkdir = try r.u32_();
    const tmpcopyup = try r.u32_();
    const onto_proc = try r.u32_();
    // An idmapped bind arrives made (zig/idmap.zig): only the host side may idmap a mount.
    const tree_fd = try r.i32_();
    if (ctx.root_fd < 0) return ctx.failWith("mount before the rootfs is bound", .{});
    if (mkdir > mkdir_file or tmpcopyup > 1 or onto_proc > onto_proc_file) return error.BadPlan;
    if (tree_fd >= 0 and flags & sys.MS.BIND == 0) return error.BadPlan;

    const at = try target(dest, mkdir);
    defer sys.close(at);
    if (flags & sys.MS.REMOUNT != 0) {
        // A remount changes the mount already at dest (the open above reached the top one).
        var pbuf: [32]u8 = undefined;
        const data_ptr: ?[*:0]const u8 = if (data.len > 0) data.ptr else null;
        _ = try sys.check(sys.mount(source, sys.fdPath(&pbuf, at), if (fstype.len > 0) fstype.ptr else null, flags, data_ptr));
        return;
    }
    const bind = flags & sys.MS.BIND != 0;
    const tree = if (tree_fd >= 0) tree_fd else if (bind) try cloneSource(source, flags & sys.MS.REC != 0) else try newFilesystem(source, fstype, flags, data);
    defer sys.close(tree);
    try checkOnto(at, tree, onto_proc & onto_proc_file != 0);
    // tmpcopyup: what dest held, read through the fd resolved above (beneath the new mount).
    const old = if (tmpcopyup != 0) try sys.fd(sys.openat(at, ".", sys.O_RDONLY | sys.O_DIRECTORY, 0)) else -1;
    defer if (old >= 0) sys.close(old);
    _ = try sys.check(sys.moveMount(tree, "", at, "", sys.MOVE_MOUNT_F_EMPTY_PATH | sys.MOVE_MOUNT_T_EMPTY_PATH));
    if (old >= 0) {
        const new = try sys.fd(sys.openat(tree, ".", sys.O_RDONLY | sys.O_DIRECTORY, 0));
        defer sys.close(new);
        try @import("copyup.zig").copyTree(old, new, 0);
    }
    var tbuf: [32]u8 = undefined;
    // "/proc/self/fd/N" of the mount's own fd names that mount: the runtime's /proc, before pivot.
    const top = sys.fdPath(&tbuf, tree);
    if (bind) {
        const extra = flags & ~(sys.MS.BIND | sys.MS.REC);
        if (extra != 0) try remountBind(top, extra);
    }
    if (propagation != 0) _ = try sys.check(sys.mount("none", top, null, propagation, null));
    if (attr_set != 0 or attr_clr != 0) {
        const attr = sys.MountAttr{ .attr_set = attr_set, .attr_clr = attr_clr, .propagation = 0, .userns_fd = 0 };
        _ = try sys.check(sys.mountSetattr(tree, "", sys.AT_EMPTY_PATH | sys.AT_RECURSIVE, &attr));
    }
}

fn cloneSource(source: [*:0]const u8, recursive: bool) sys.Errno!i32 {
    return sys.fd(sys.openTree(sys.AT_FDCWD, source, sys.OPEN_TREE_CLONE | if (recursive) sys.AT_RECURSIVE else 0));
}

/// fsopen + fsconfig (source, the superblock flags, each comma-separated data option) +
/// fsmount with the per-mount flags.
fn newFilesystem(source: [:0]const u8, fstype: [:0]const u8, flags: u64, data: [:0]const u8) Error!i32 {
    if (fstype.len == 0) return error.BadPlan;
    const fs = try sys.fd(sys.fsopen(fstype.ptr));
    defer sys.close(fs);
    if (source.len > 0) try setString(fs, "source", source);
    const sb_flags = [_]struct { u64, [:0]const u8 }{ .{ sys.MS.RDONLY, "ro" }, .{ MS_SYNCHRONOUS, "sync" }, .{ MS_DIRSYNC, "dirsync" }, .{ MS_LAZYTIME, "lazytime" } };
    for (sb_flags) |f| if (flags & f[0] != 0) try setFlag(fs, f[1]);
    var opt: [plan.string_bytes_max + 1]u8 = undefined;
    var start: usize = 0;
    var quoted = false;
    for (0..data.len + 1) |i| {
        if (i < data.len and data[i] == '"') quoted = !quoted;
        if (i < data.len and (data[i] != ',' or quoted)) continue;
        const o = data[start..i];
        start = i + 1;
        if (o.len == 0) continue;
        @memcpy(opt[0..o.len], o);
        opt[o.len] = 0;
        if (std.mem.indexOfScalar(u8, o, '=')) |eq| {
            opt[eq] = 0;
            // mount(2) takes context="a,b" quoted; fsconfig wants the bare value.
            const q = o.len - eq > 2 and opt[eq + 1] == '"' and opt[o.len - 1] == '"';
            if (q) opt[o.len - 1] = 0;
            const value = if (q) opt[eq + 2 .. o.len - 1 :0] else opt[eq + 1 .. o.len :0];
            try setString(fs, opt[0..eq :0], value);
        } else {
            try setFlag(fs, opt[0..o.len :0]);
        }
    }
    _ = sys.check(sys.fsconfig(fs, sys.FSCONFIG_CMD_CREATE, null, null)) catch |e| return fsError(fs, e, "create the filesystem");
    var attr: u64 = 0;
    const attrs = [_]struct { u64, u64 }{
        .{ sys.MS.RDONLY, sys.MOUNT_ATTR_RDONLY },     .{ sys.MS.NOSUID, sys.MOUNT_ATTR_NOSUID },
        .{ sys.MS.NODEV, sys.MOUNT_ATTR_NODEV },       .{ sys.MS.NOEXEC, sys.MOUNT_ATTR_NOEXEC },
        .{ MS_NOATIME, MOUNT_ATTR_NOATIME },           .{ MS_STRICTATIME, MOUNT_ATTR_STRICTATIME },
        .{ MS_NODIRATIME, MOUNT_ATTR_NODIRATIME },     .{ MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
    };
    for (attrs) |a| if (flags & a[0] != 0) {
        attr |= a[1];
    };
    // noatime wins over strictatime, as mount(2) decides.
    if (attr & MOUNT_ATTR_NOATIME != 0) attr &= ~MOUNT_ATTR_STRICTATIME;
    return sys.fd(sys.fsmount(fs, attr));
}

fn setString(fs: i32, key: [:0]const u8, value: [:0]const u8) Error!void {
    _ = sys.check(sys.fsconfig(fs, sys.FSCONFIG_SET_STRING, key.ptr, value.ptr)) catch |e| return fsError(fs, e, key);
}

fn setFlag(fs: i32, key: [:0]const u8) Error!void {
    _ = sys.check(sys.fsconfig(fs, sys.FSCONFIG_SET_FLAG, key.ptr, null)) catch |e| return fsError(fs, e, key);
}

/// The filesystem's own words for a refused option, when it left any in the context's log.
fn fsError(fs: i32, e: sys.Errno, what: []const u8) Error {
    const errno = sys.last_errno;
    var msg: [256]u8 = undefined;
    const n = linux.read(fs, &msg, msg.len);
    if (linux.E.init(n) == .SUCCESS and n > 2) {
        ctx.setDetail("mount option {s}: {s}", .{ what, std.mem.trimRight(u8, msg[2..n], "\n") });
    } else {
        ctx.setDetail("mount option {s}", .{what});
    }
    sys.last_errno = errno;
    return e;
}

/// Applies ro/nosuid/... to a fresh bind mount; retries keeping the flags the kernel locked.
fn remountBind(top: [:0]const u8, flags: u64) Error!void {
    const rc = sys.mount("none", top, null, sys.MS.REMOUNT | sys.MS.BIND | flags, null);
    if (linux.E.init(rc) != .PERM) {
        _ = try sys.check(rc);
        return;
    }
    _ = try sys.check(sys.mount("none", top, null, sys.MS.REMOUNT | sys.MS.BIND | flags | try rootfs.lockedFlags(top), null));
}

fn sameFile(a: i32, b: i32) sys.Errno!bool {
    var sa: linux.Stat = undefined;
    var sb: linux.Stat = undefined;
    _ = try sys.check(linux.fstat(a, &sa));
    _ = try sys.check(linux.fstat(b, &sb));
    return sa.dev == sb.dev and sa.ino == sb.ino;
}

/// Whether `at` is where the container's `path` ("/proc", "/sys") resolves now.
fn isContainers(at: i32, path: [*:0]const u8) sys.Errno!bool {
    const f = inroot.open(path, sys.O_PATH) catch |e| {
        if (sys.last_errno == @intFromEnum(linux.E.NOENT)) return false;
        return e;
    };
    defer sys.close(f);
    return sameFile(at, f);
}

/// Only procfs replaces the container's /proc and only sysfs its /sys, whatever path led
/// there; on procfs only procfs, or the files the plan allows (lxcfs), may be mounted. A volume
/// over /proc would otherwise take the writes meant for it (the CVE-2025-52881 class).
fn checkOnto(at: i32, tree: i32, proc_file_ok: bool) Error!void {
    const magic = try sys.fsMagic(tree);
    if (magic != sys.PROC_SUPER_MAGIC and try isContainers(at, "/proc")) {
        return ctx.failWith("the destination resolves onto the container's /proc: only procfs may be mounted there", .{});
    }
    if (magic != sys.SYSFS_MAGIC and try isContainers(at, "/sys")) {
        return ctx.failWith("the destination resolves onto the container's /sys: only sysfs may be mounted there", .{});
    }
    if (magic != sys.PROC_SUPER_MAGIC and !proc_file_ok and try sys.fsMagic(at) == sys.PROC_SUPER_MAGIC) {
        return ctx.failWith("the destination resolves into the container's procfs: only procfs may be mounted there", .{});
    }
}
