//! Paths inside the rootfs, before pivot_root: every lookup is openat2(RESOLVE_IN_ROOT) against
//! the rootfs fd, so ".." and symlinks (absolute or relative) are resolved as if the rootfs were
//! "/" and can never lead out of it (the CVE-2021-30465 class).
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const ctx = @import("ctx.zig");

/// Symlinks followed while creating one path, as the kernel's own limit.
const hops_max = 40;

pub fn open(path: [*:0]const u8, flags: u32) sys.Errno!i32 {
    std.debug.assert(ctx.root_fd >= 0);
    const how = sys.OpenHow{ .flags = flags | sys.O_CLOEXEC, .mode = 0, .resolve = sys.RESOLVE_IN_ROOT | sys.RESOLVE_NO_MAGICLINKS };
    // EAGAIN: a rename raced a ".." step and the kernel would not vouch for the walk; a fresh
    // walk is safe, and a bounded number of them keeps a swapping neighbour from hanging create.
    var tries: u32 = 0;
    while (true) : (tries += 1) {
        const rc = sys.openat2(ctx.root_fd, path, &how);
        if (linux.E.init(rc) != .AGAIN or tries == again_max) return sys.fd(rc);
    }
}

const again_max = 64;

/// A component that is a symlink to nowhere (yet): the walk restarts at its target.
const Walk = union(enum) { dir: i32, dangling: struct { start: usize, end: usize, target_len: usize } };

/// mkdir -p inside the rootfs; a dangling symlink on the way is followed (inside the rootfs)
/// and its target created, as runc's MkdirAllInRoot does. Returns an O_PATH fd of the dir.
pub fn mkdirAll(path: []const u8) sys.Errno!i32 {
    var want: ctx.PathBuf = undefined;
    var link: [4097]u8 = undefined;
    var next: ctx.PathBuf = undefined;
    if (path.len >= want.len) return sys.fail(.NAMETOOLONG);
    @memcpy(want[0..path.len], path);
    var len = path.len;
    var hops: u32 = 0;
    while (true) {
        switch (try walk(want[0..len], &link)) {
            .dir => |fd| return fd,
            .dangling => |d| {
                hops += 1;
                if (hops > hops_max) return sys.fail(.LOOP);
                // An absolute target restarts at the rootfs's root; a relative one at the link's dir.
                const keep = if (link[0] == '/') 0 else d.start;
                const rest = want[d.end..len];
                const total = keep + d.target_len + 1 + rest.len;
                if (total >= next.len) return sys.fail(.NAMETOOLONG);
                @memcpy(next[0..keep], want[0..keep]);
                @memcpy(next[keep..][0..d.target_len], link[0..d.target_len]);
                next[keep + d.target_len] = '/';
                @memcpy(next[keep + d.target_len + 1 ..][0..rest.len], rest);
                @memcpy(want[0..total], next[0..total]);
                len = total;
            },
        }
    }
}

fn walk(path: []const u8, link: *[4097]u8) sys.Errno!Walk {
    var buf: ctx.PathBuf = undefined;
    @memcpy(buf[0..path.len], path);
    buf[path.len] = 0;
    var dir = try open("/", sys.O_PATH | sys.O_DIRECTORY);
    errdefer sys.close(dir);
    var i: usize = 0;
    while (i < path.len) {
        while (i < path.len and path[i] == '/') i += 1;
        if (i == path.len) break;
        const start = i;
        while (i < path.len and path[i] != '/') i += 1;
        buf[i] = 0;
        const prefix: [*:0]const u8 = @ptrCast(&buf);
        const found = open(prefix, sys.O_PATH | sys.O_DIRECTORY) catch |e| blk: {
            if (sys.last_errno != @intFromEnum(linux.E.NOENT)) return e;
            const leaf: [*:0]const u8 = @ptrCast(buf[start..].ptr);
            const rc = linux.mkdirat(dir, leaf, 0o755);
            if (linux.E.init(rc) == .EXIST) {
                // Something is there but does not resolve: a dangling symlink to follow.
                const n = linux.readlinkat(dir, leaf, link, link.len - 1);
                if (linux.E.init(n) == .SUCCESS and n > 0) {
                    sys.close(dir);
                    return .{ .dangling = .{ .start = start, .end = i, .target_len = n } };
                }
            } else if (linux.E.init(rc) != .SUCCESS) {
                return sys.fail(linux.E.init(rc));
            }
            break :blk try open(prefix, sys.O_PATH | sys.O_DIRECTORY);
        };
        sys.close(dir);
        dir = found;
        if (i < path.len) buf[i] = '/';
    }
    return .{ .dir = dir };
}

/// An empty file at `path` (bind mount target for a file source); parents made as directories.
/// Returns an fd of the file when this call made it (so the mount goes onto exactly that file),
/// null when something was already there (the caller resolves it, following symlinks in-root).
pub fn mkfile(path: []const u8) sys.Errno!?i32 {
    var buf: ctx.PathBuf = undefined;
    const parts = ctx.splitPath(&buf, path);
    const dir = try mkdirAll(parts.parent);
    defer sys.close(dir);
    const rc = sys.openat(dir, parts.leaf, sys.O_CREAT | sys.O_EXCL | sys.O_RDONLY | sys.O_NOFOLLOW, 0o644);
    if (linux.E.init(rc) == .EXIST) return null;
    return try sys.fd(rc);
}
