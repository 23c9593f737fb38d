//! Filesystem ops: device nodes, symlinks, sysctl, the cwd. Before pivot_root every path is
//! resolved with openat2(RESOLVE_IN_ROOT) against the rootfs fd, so a symlink in the rootfs can
//! never lead outside it (the CVE-2021-30465 class). Mounts: mount.zig; masks: masks.zig.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");
const procfs = @import("procfs.zig");
const inroot = @import("inroot.zig");
const mkdirAll = inroot.mkdirAll;
const mkfileIn = inroot.mkfile;

const Error = ctx.Error;
const Reader = plan.Reader;


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
        // In a user namespace mknod is refused: bind the host's node instead, as runc does,
        // onto a plain file (never through what the rootfs may have planted at that name).
        if (try mkfileIn(dest)) |made| sys.close(made);
        const fd = try sys.fd(sys.openat(dir, parts.leaf, sys.O_PATH | sys.O_NOFOLLOW, 0));
        defer sys.close(fd);
        var st: linux.Stat = undefined;
        _ = try sys.check(linux.fstat(fd, &st));
        if (st.mode & linux.S.IFMT != linux.S.IFREG) return ctx.failWith("{s} in the rootfs is not a plain file to bind the host's device onto", .{dest});
        var pbuf: [32]u8 = undefined;
        _ = try sys.check(sys.mount(dest, sys.fdPath(&pbuf, fd), null, sys.MS.BIND, null));
        return;
    }
    if (linux.E.init(rc) == .EXIST) {
        try existingNode(dir, parts.leaf, dest, type_bits, sys.makedev(major, minor));
    } else {
        _ = try sys.check(rc);
    }
    _ = try sys.check(sys.fchownat(dir, parts.leaf, uid, gid, sys.AT_SYMLINK_NOFOLLOW));
}

/// What the rootfs (or an earlier mount) already has at a device's path must be that device: a
/// symlink there would later lead the masks or the process anywhere (the CVE-2025-31133 class).
fn existingNode(dir: i32, leaf: [*:0]const u8, dest: []const u8, type_bits: u32, rdev: u64) Error!void {
    var st: linux.Stat = undefined;
    _ = try sys.check(linux.fstatat(dir, leaf, &st, sys.AT_SYMLINK_NOFOLLOW));
    const kind = st.mode & linux.S.IFMT;
    if (kind == type_bits and (type_bits == linux.S.IFIFO or st.rdev == rdev)) return;
    const what: []const u8 = switch (kind) {
        linux.S.IFLNK => "a symlink",
        linux.S.IFREG => "a regular file",
        linux.S.IFDIR => "a directory",
        else => "another device",
    };
    return ctx.failWith("{s} already exists in the rootfs as {s}, not the device asked for", .{ dest, what });
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

/// Through the init's own procfs (procfs.zig): never a rootfs's or a volume's /proc/sys.
pub fn sysctl(r: *Reader) Error!void {
    const key = try r.str();
    const value = try r.str();
    // The compiler refuses these; a key must never name a file outside /proc/sys.
    if (key.len == 0 or key[0] == '.' or key[key.len - 1] == '.') return error.BadPlan;
    if (std.mem.indexOfScalar(u8, key, '/') != null or std.mem.indexOf(u8, key, "..") != null) return error.BadPlan;
    var buf: [plan.string_bytes_max + 16]u8 = undefined;
    const prefix = "sys/";
    @memcpy(buf[0..prefix.len], prefix);
    for (key, 0..) |c, i| buf[prefix.len + i] = if (c == '.') '/' else c;
    buf[prefix.len + key.len] = 0;
    try procfs.write(@ptrCast(&buf), value);
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
