//! tmpcopyup: copies what a directory held into the tmpfs just mounted over it (directories,
//! regular files, symlinks; owners and modes kept). Bounded depth, static buffers.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const ctx = @import("ctx.zig");

const depth_max = 16;

pub fn copyTree(from: i32, to: i32, depth: u32) ctx.Error!void {
    if (depth >= depth_max) return ctx.failWith("tmpcopyup: deeper than {d} levels", .{depth_max});
    var dents: [4096]u8 align(8) = undefined;
    while (true) {
        const n = try sys.check(linux.getdents64(from, &dents, dents.len));
        if (n == 0) return;
        var off: usize = 0;
        while (off < n) {
            const d: *align(1) linux.dirent64 = @ptrCast(&dents[off]);
            off += d.reclen;
            const name: [*:0]const u8 = @ptrCast(&d.name);
            const s = std.mem.span(name);
            if (std.mem.eql(u8, s, ".") or std.mem.eql(u8, s, "..")) continue;
            try copyEntry(from, to, name, depth);
        }
    }
}

fn copyEntry(from: i32, to: i32, name: [*:0]const u8, depth: u32) ctx.Error!void {
    var st: linux.Stat = undefined;
    _ = try sys.check(linux.fstatat(from, name, &st, sys.AT_SYMLINK_NOFOLLOW));
    const kind = st.mode & linux.S.IFMT;
    if (kind == linux.S.IFDIR) {
        const rc = linux.mkdirat(to, name, st.mode & 0o7777);
        if (linux.E.init(rc) != .EXIST) _ = try sys.check(rc);
        const src = try sys.fd(sys.openat(from, name, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW, 0));
        defer sys.close(src);
        const dst = try sys.fd(sys.openat(to, name, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW, 0));
        defer sys.close(dst);
        try copyTree(src, dst, depth + 1);
    } else if (kind == linux.S.IFREG) {
        const src = try sys.fd(sys.openat(from, name, sys.O_RDONLY | sys.O_NOFOLLOW, 0));
        defer sys.close(src);
        const dst = try sys.fd(sys.openat(to, name, sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL | sys.O_NOFOLLOW, st.mode & 0o7777));
        defer sys.close(dst);
        var buf: [16384]u8 = undefined;
        while (true) {
            const got = try sys.retry(linux.read, .{ src, &buf, buf.len });
            if (got == 0) break;
            try sys.writeAll(dst, buf[0..got]);
        }
    } else if (kind == linux.S.IFLNK) {
        var link: [4097]u8 = undefined;
        const len = try sys.check(linux.readlinkat(from, name, &link, link.len - 1));
        link[len] = 0;
        _ = try sys.check(linux.symlinkat(@ptrCast(&link), to, name));
    } else {
        return;
    }
    _ = try sys.check(sys.fchownat(to, name, st.uid, st.gid, sys.AT_SYMLINK_NOFOLLOW));
}
