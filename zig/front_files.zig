//! The front's own verbs' careful file handling (zig/front_verbs.zig): state it may trust, as
//! src/state/store.ts decides; a record's path acted on only inside a cgroup filesystem; a write
//! into the exec fifo that never dies of SIGPIPE; whether the user namespace can be told.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");

const O_CLOEXEC = sys.O_CLOEXEC;
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;

fn zString(buf: []u8, s: []const u8) [:0]const u8 {
    std.debug.assert(s.len < buf.len);
    @memcpy(buf[0..s.len], s);
    buf[s.len] = 0;
    return buf[0..s.len :0];
}

/// fstat(f) is of type `kind`, owned by us or root, not writable by group or others.
pub fn fstatTrusted(f: i32, st: *linux.Stat, kind: u32) bool {
    if (linux.E.init(linux.fstat(f, st)) != .SUCCESS) return false;
    if (st.mode & S_IFMT != kind) return false;
    const euid = linux.geteuid();
    if (st.uid != 0 and st.uid != euid) return false;
    return st.mode & 0o022 == 0;
}

/// `state.json` is in the dir, a regular file (not through a link) we may trust.
pub fn stateFileTrusted(dir_fd: i32) bool {
    var st: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(dir_fd, "state.json", &st, sys.AT_SYMLINK_NOFOLLOW)) != .SUCCESS) return false;
    if (st.mode & S_IFMT != S_IFREG) return false;
    const euid = linux.geteuid();
    if (st.uid != 0 and st.uid != euid) return false;
    return st.mode & 0o022 == 0;
}

/// One byte into `f` with SIGPIPE held back: an init that dies between our open and our write
/// makes it fail with EPIPE (false: bunrunc-core then says the container has stopped) instead of
/// killing the front without a word. The SIGPIPE that write raised is taken back (unless one was
/// already pending), and the caller's mask restored: bunrunc-core inherits both untouched.
pub fn writeNoSigpipe(f: i32, byte: u8) bool {
    var pipe_set = linux.empty_sigset;
    linux.sigaddset(&pipe_set, linux.SIG.PIPE);
    var old_mask: linux.sigset_t = undefined;
    if (linux.E.init(linux.sigprocmask(linux.SIG.BLOCK, &pipe_set, &old_mask)) != .SUCCESS) return false;
    defer std.debug.assert(linux.E.init(linux.sigprocmask(linux.SIG.SETMASK, &old_mask, null)) == .SUCCESS);
    var pending_before = linux.empty_sigset;
    _ = linux.syscall2(.rt_sigpending, @intFromPtr(&pending_before), linux.NSIG / 8);
    const rc = sys.retry(linux.write, .{ f, @as([*]const u8, &[_]u8{byte}), 1 }) catch {
        if (sys.last_errno == @intFromEnum(linux.E.PIPE) and !linux.sigismember(&pending_before, linux.SIG.PIPE)) {
            const zero = linux.timespec{ .sec = 0, .nsec = 0 };
            _ = linux.syscall4(.rt_sigtimedwait, @intFromPtr(&pipe_set), 0, @intFromPtr(&zero), linux.NSIG / 8);
        }
        return false;
    };
    return rc == 1;
}

/// A record's cgroup path as its parent directory's fd (an O_PATH fd, checked to be of a cgroup
/// filesystem: v1's controller dirs may be links, as cpu -> cpu,cpuacct, so the parent's path is
/// followed) and its last name, acted on through the fd: nothing outside cgroupfs is touched.
pub const InCgroupfs = struct {
    const cgroup_super_magic: u64 = 0x27e0eb;
    const cgroup2_super_magic: u64 = 0x63677270;

    parent: i32,
    name_len: usize,
    name_buf: [256]u8,

    pub fn open(path: []const u8) ?InCgroupfs {
        std.debug.assert(path.len > 0 and path[0] == '/');
        const slash = std.mem.lastIndexOfScalar(u8, path, '/') orelse return null;
        const name = path[slash + 1 ..];
        if (name.len == 0 or name.len > 255 or std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..")) return null;
        var parent_buf: [linux.PATH_MAX]u8 = undefined;
        const parent_path = if (slash == 0) "/" else path[0..slash];
        const parent = sys.fd(sys.openat(sys.AT_FDCWD, zString(&parent_buf, parent_path), sys.O_PATH | sys.O_DIRECTORY | O_CLOEXEC, 0)) catch return null;
        const magic = sys.fsMagic(parent) catch 0;
        if (magic != cgroup_super_magic and magic != cgroup2_super_magic) {
            sys.close(parent);
            return null;
        }
        var at = InCgroupfs{ .parent = parent, .name_len = name.len, .name_buf = undefined };
        @memcpy(at.name_buf[0..name.len], name);
        at.name_buf[name.len] = 0;
        return at;
    }

    pub fn nameZ(self: *const InCgroupfs) [:0]const u8 {
        return self.name_buf[0..self.name_len :0];
    }

    pub fn close(self: *const InCgroupfs) void {
        sys.close(self.parent);
    }
};

/// Whether /proc/self/uid_map can be read: src/base/rootless.ts reads an unreadable one as "not
/// in a user namespace", server_link.initialUserNs as "in one", so the front decides nothing then.
pub fn uidMapReadable() bool {
    const f = sys.open("/proc/self/uid_map", sys.O_RDONLY | O_CLOEXEC) catch return false;
    defer sys.close(f);
    var buf: [128]u8 = undefined;
    _ = sys.retry(linux.read, .{ f, &buf, buf.len }) catch return false;
    return true;
}
