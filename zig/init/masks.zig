//! maskedPaths and readonlyPaths, after pivot_root. Each target is resolved once, to an O_PATH
//! fd inside the container's root, and every mount is made onto that fd (move_mount), never
//! onto a path looked up again. A masked file gets a clone of the container's /dev/null mount,
//! and that /dev/null is proven first: opened without following any symlink, a character
//! device 1:3. A planted /dev/null (a symlink to a procfs file, a volume's file) fails create
//! by name instead of being bound over /proc (the CVE-2025-31133 class).
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");

const Error = ctx.Error;
const Reader = plan.Reader;

/// The proven /dev/null, opened at the first mask of a file and kept until exec (CLOEXEC).
var null_fd: i32 = -1;

fn openInRoot(path: [*:0]const u8, flags: u32, resolve: u64) sys.Errno!i32 {
    std.debug.assert(ctx.root_fd >= 0);
    const how = sys.OpenHow{ .flags = flags | sys.O_CLOEXEC, .mode = 0, .resolve = sys.RESOLVE_IN_ROOT | sys.RESOLVE_NO_MAGICLINKS | resolve };
    return sys.fd(sys.openat2(ctx.root_fd, path, &how));
}

fn missing() bool {
    return sys.last_errno == @intFromEnum(linux.E.NOENT);
}

fn provenNull() Error!i32 {
    if (null_fd >= 0) return null_fd;
    const f = openInRoot("/dev/null", sys.O_PATH | sys.O_NOFOLLOW, sys.RESOLVE_NO_SYMLINKS) catch |e| {
        if (sys.last_errno == @intFromEnum(linux.E.LOOP)) return ctx.failWith("/dev/null is reached through a symlink: it must be the null device itself", .{});
        ctx.setDetail("open /dev/null", .{});
        return e;
    };
    var st: linux.Stat = undefined;
    _ = sys.check(linux.fstat(f, &st)) catch |e| {
        sys.close(f);
        return e;
    };
    if (st.mode & linux.S.IFMT != linux.S.IFCHR or st.rdev != sys.makedev(1, 3)) {
        sys.close(f);
        const kind: []const u8 = switch (st.mode & linux.S.IFMT) {
            linux.S.IFLNK => "a symlink",
            linux.S.IFREG => "a regular file",
            linux.S.IFDIR => "a directory",
            linux.S.IFCHR => "another character device",
            else => "not a character device",
        };
        return ctx.failWith("/dev/null is {s}, not the null device (char 1:3)", .{kind});
    }
    null_fd = f;
    return f;
}

fn attach(tree: i32, target: i32) sys.Errno!void {
    _ = try sys.check(sys.moveMount(tree, "", target, "", sys.MOVE_MOUNT_F_EMPTY_PATH | sys.MOVE_MOUNT_T_EMPTY_PATH));
}

/// path str — a read-only empty tmpfs over a directory, a clone of /dev/null over anything
/// else; a missing path is skipped.
pub fn maskPath(r: *Reader) Error!void {
    const path = try r.str();
    const target = openInRoot(path, sys.O_PATH, 0) catch |e| return if (missing()) {} else e;
    defer sys.close(target);
    var st: linux.Stat = undefined;
    _ = try sys.check(linux.fstat(target, &st));
    const tree = if (st.mode & linux.S.IFMT == linux.S.IFDIR) try emptyTmpfs() else try sys.fd(sys.openTree(try provenNull(), "", sys.OPEN_TREE_CLONE | sys.AT_EMPTY_PATH));
    defer sys.close(tree);
    try attach(tree, target);
}

fn emptyTmpfs() Error!i32 {
    const fs = try sys.fd(sys.fsopen("tmpfs"));
    defer sys.close(fs);
    _ = try sys.check(sys.fsconfig(fs, sys.FSCONFIG_SET_STRING, "size", "0k"));
    _ = try sys.check(sys.fsconfig(fs, sys.FSCONFIG_SET_FLAG, "ro", null));
    _ = try sys.check(sys.fsconfig(fs, sys.FSCONFIG_CMD_CREATE, null, null));
    return sys.fd(sys.fsmount(fs, sys.MOUNT_ATTR_RDONLY));
}

/// path str — a read-only clone of the tree at path (its submounts too) mounted over it; a
/// missing path is skipped.
pub fn readonlyPath(r: *Reader) Error!void {
    const path = try r.str();
    const target = openInRoot(path, sys.O_PATH, 0) catch |e| return if (missing()) {} else e;
    defer sys.close(target);
    const tree = try sys.fd(sys.openTree(target, "", sys.OPEN_TREE_CLONE | sys.AT_RECURSIVE | sys.AT_EMPTY_PATH));
    defer sys.close(tree);
    const attr = sys.MountAttr{ .attr_set = sys.MOUNT_ATTR_RDONLY, .attr_clr = 0, .propagation = 0, .userns_fd = 0 };
    _ = try sys.check(sys.mountSetattr(tree, "", sys.AT_EMPTY_PATH | sys.AT_RECURSIVE, &attr));
    try attach(tree, target);
}
