//! Filesystem ops: mounts, device nodes, symlinks, masked and read-only paths, sysctl.
//! Before pivot_root every destination is resolved with openat2(RESOLVE_IN_ROOT) against the
//! rootfs fd and mounted through /proc/self/fd/N, so a symlink in the rootfs can never send a
//! mount outside it (the CVE-2021-30465 class).
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");
const rootfs = @import("root.zig");
const inroot = @import("inroot.zig");
const inRoot = inroot.open;
const mkdirAll = inroot.mkdirAll;
const mkfileIn = inroot.mkfile;

const Error = ctx.Error;
const Reader = plan.Reader;


const mkdir_none = 0;
const mkdir_dir = 1;
const mkdir_file = 2;

fn target(dest: [:0]const u8, mkdir: u32) sys.Errno!i32 {
    switch (mkdir) {
        mkdir_dir => return mkdirAll(dest),
        mkdir_file => try mkfileIn(dest),
        else => {},
    }
    return inRoot(dest, sys.O_PATH);
}

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
    if (ctx.root_fd < 0) return ctx.failWith("mount before the rootfs is bound", .{});
    if (mkdir > mkdir_file or tmpcopyup > 1) return error.BadPlan;

    var pbuf: [32]u8 = undefined;
    const fd = try target(dest, mkdir);
    defer sys.close(fd);
    const at = sys.fdPath(&pbuf, fd);
    const data_ptr: ?[*:0]const u8 = if (data.len > 0) data.ptr else null;
    if (flags & sys.MS.BIND != 0 and flags & sys.MS.REMOUNT == 0) {
        _ = try sys.check(sys.mount(source, at, null, sys.MS.BIND | (flags & sys.MS.REC), null));
        const extra = flags & ~(sys.MS.BIND | sys.MS.REC);
        if (extra != 0) try remountBind(dest, extra);
    } else if (tmpcopyup != 0) {
        const old = try inRoot(dest, sys.O_RDONLY | sys.O_DIRECTORY);
        defer sys.close(old);
        _ = try sys.check(sys.mount(source, at, fstype, flags, data_ptr));
        const new = try inRoot(dest, sys.O_RDONLY | sys.O_DIRECTORY);
        defer sys.close(new);
        try @import("copyup.zig").copyTree(old, new, 0);
    } else {
        const fs_type: ?[*:0]const u8 = if (fstype.len > 0) fstype.ptr else null;
        _ = try sys.check(sys.mount(source, at, fs_type, flags, data_ptr));
    }
    if (propagation != 0) {
        const top = try inRoot(dest, sys.O_PATH);
        defer sys.close(top);
        var tbuf: [32]u8 = undefined;
        _ = try sys.check(sys.mount("none", sys.fdPath(&tbuf, top), null, propagation, null));
    }
    if (attr_set != 0 or attr_clr != 0) {
        const top = try inRoot(dest, sys.O_PATH);
        defer sys.close(top);
        const attr = sys.MountAttr{ .attr_set = attr_set, .attr_clr = attr_clr, .propagation = 0, .userns_fd = 0 };
        _ = try sys.check(sys.mountSetattr(top, "", sys.AT_EMPTY_PATH | sys.AT_RECURSIVE, &attr));
    }
}

/// Applies ro/nosuid/... to a fresh bind mount; retries keeping the flags the kernel locked.
fn remountBind(dest: [:0]const u8, flags: u64) Error!void {
    const top = try inRoot(dest, sys.O_PATH);
    defer sys.close(top);
    var buf: [32]u8 = undefined;
    const at = sys.fdPath(&buf, top);
    const rc = sys.mount("none", at, null, sys.MS.REMOUNT | sys.MS.BIND | flags, null);
    if (linux.E.init(rc) != .PERM) {
        _ = try sys.check(rc);
        return;
    }
    _ = try sys.check(sys.mount("none", at, null, sys.MS.REMOUNT | sys.MS.BIND | flags | try rootfs.lockedFlags(at), null));
}

pub fn mknod(r: *Reader) Error!void {
    const dest = try r.str();
    const kind = try r.u32_();
    const major = try r.u32_();
    const minor = try r.u32_();
    const mode = try r.u32_();
    const uid = try r.u32_();
    const gid = try r.u32_();
    const bind_fallback = try r.u32_();
    const type_bits: u32 = switch (kind) {
        'c', 'u' => linux.S.IFCHR,
        'b' => linux.S.IFBLK,
        'p' => linux.S.IFIFO,
        else => return error.BadPlan,
    };
    var buf: ctx.PathBuf = undefined;
    const parts = ctx.splitPath(&buf, dest);
    const dir = try mkdirAll(parts.parent);
    defer sys.close(dir);
    const rc = sys.mknodat(dir, parts.leaf, type_bits | (mode & 0o7777), sys.makedev(major, minor));
    if (linux.E.init(rc) == .PERM and bind_fallback != 0) {
        // In a user namespace mknod is refused: bind the host's node instead, as runc does.
        try mkfileIn(dest);
        const fd = try inRoot(dest, sys.O_PATH);
        defer sys.close(fd);
        var pbuf: [32]u8 = undefined;
        _ = try sys.check(sys.mount(dest, sys.fdPath(&pbuf, fd), null, sys.MS.BIND, null));
        return;
    }
    if (linux.E.init(rc) != .EXIST) _ = try sys.check(rc);
    _ = try sys.check(sys.fchownat(dir, parts.leaf, uid, gid, sys.AT_SYMLINK_NOFOLLOW));
}

pub fn symlink(r: *Reader) Error!void {
    const link_target = try r.str();
    const path = try r.str();
    var buf: ctx.PathBuf = undefined;
    const parts = ctx.splitPath(&buf, path);
    const dir = try mkdirAll(parts.parent);
    defer sys.close(dir);
    const rc = linux.symlinkat(link_target, dir, parts.leaf);
    if (linux.E.init(rc) != .EXIST) _ = try sys.check(rc);
}

fn isDir(path: [*:0]const u8) sys.Errno!bool {
    var st: linux.Stat = undefined;
    _ = try sys.check(linux.fstatat(sys.AT_FDCWD, path, &st, 0));
    return st.mode & linux.S.IFMT == linux.S.IFDIR;
}

fn missing() bool {
    return sys.last_errno == @intFromEnum(linux.E.NOENT);
}

pub fn maskPath(r: *Reader) Error!void {
    const path = try r.str();
    const dir = isDir(path) catch |e| return if (missing()) {} else e;
    if (dir) {
        _ = try sys.check(sys.mount("tmpfs", path, "tmpfs", sys.MS.RDONLY, "size=0k"));
    } else {
        _ = try sys.check(sys.mount("/dev/null", path, null, sys.MS.BIND, null));
    }
}

pub fn readonlyPath(r: *Reader) Error!void {
    const path = try r.str();
    _ = sys.check(sys.mount(path, path, null, sys.MS.BIND | sys.MS.REC, null)) catch |e| return if (missing()) {} else e;
    const rc = sys.mount(path, path, null, sys.MS.BIND | sys.MS.REMOUNT | sys.MS.RDONLY | sys.MS.REC, null);
    if (linux.E.init(rc) != .PERM) {
        _ = try sys.check(rc);
        return;
    }
    _ = try sys.check(sys.mount(path, path, null, sys.MS.BIND | sys.MS.REMOUNT | sys.MS.RDONLY | sys.MS.REC | try rootfs.lockedFlags(path), null));
}

pub fn sysctl(r: *Reader) Error!void {
    const key = try r.str();
    const value = try r.str();
    // The compiler refuses these; a key must never name a file outside /proc/sys.
    if (key.len == 0 or key[0] == '.' or key[key.len - 1] == '.') return error.BadPlan;
    if (std.mem.indexOfScalar(u8, key, '/') != null or std.mem.indexOf(u8, key, "..") != null) return error.BadPlan;
    var buf: [plan.string_bytes_max + 16]u8 = undefined;
    const prefix = "/proc/sys/";
    @memcpy(buf[0..prefix.len], prefix);
    for (key, 0..) |c, i| buf[prefix.len + i] = if (c == '.') '/' else c;
    buf[prefix.len + key.len] = 0;
    const fd = try sys.open(@ptrCast(&buf), sys.O_WRONLY | sys.O_TRUNC);
    defer sys.close(fd);
    try sys.writeAll(fd, value);
}

/// path str — mkdir -p after pivot_root (the container's cwd): we are inside the rootfs now.
pub fn mkdirPath(r: *Reader) Error!void {
    const path = try r.str();
    if (path.len == 0 or path[0] != '/') return error.BadPlan;
    var buf: [plan.string_bytes_max + 1]u8 = undefined;
    @memcpy(buf[0..path.len], path);
    var i: usize = 1;
    while (i <= path.len) : (i += 1) {
        if (i < path.len and path[i] != '/') continue;
        buf[i] = 0;
        const rc = linux.mkdirat(sys.AT_FDCWD, @ptrCast(&buf), 0o755);
        if (linux.E.init(rc) != .EXIST) _ = sys.check(rc) catch |e| {
            ctx.setDetail("mkdir {s}", .{buf[0..i]});
            return e;
        };
        if (i < path.len) buf[i] = '/';
    }
}
