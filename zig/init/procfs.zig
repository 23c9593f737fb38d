//! The init's own procfs: a private instance made when the init starts (fsopen, else a clone of
//! the runtime's /proc mount without whatever is mounted inside it), held as an fd that nothing
//! in the container can reach or cover. Every write into procfs (LSM labels, sysctl,
//! oom_score_adj, time namespace offsets) opens its file here: openat2 beneath this root, no
//! magic links, never into another mount, and the file must be on procfs. A rootfs symlink or a
//! volume over the container's /proc can never receive those writes (the CVE-2025-52881 class).
const std = @import("std");
const sys = @import("sys");

var root: i32 = -1;

/// Called once, before any op: the mount namespace is still the runtime's.
pub fn init() sys.Errno!void {
    std.debug.assert(root < 0);
    const f = fresh() catch clone() catch try unprivileged();
    errdefer sys.close(f);
    if (try sys.fsMagic(f) != sys.PROC_SUPER_MAGIC) return sys.fail(.XDEV);
    root = f;
}

/// The runtime's /proc mount cloned, without whatever is mounted inside it.
fn clone() sys.Errno!i32 {
    return sys.fd(sys.openTree(sys.AT_FDCWD, "/proc", sys.OPEN_TREE_CLONE));
}

/// An unprivileged runtime's exec (no user namespace of its own yet) may neither make nor clone a
/// mount, and so could not have covered the /proc it sees either: that /proc, as it is.
/// `open` never leaves this mount (RESOLVE_NO_XDEV) and checks each file is on procfs.
fn unprivileged() sys.Errno!i32 {
    if (sys.last_errno != @intFromEnum(std.os.linux.E.PERM)) return error.Sys;
    return sys.open("/proc", sys.O_PATH | sys.O_DIRECTORY);
}

/// A new procfs of the init's pid namespace, mounted nowhere.
fn fresh() sys.Errno!i32 {
    const fs = try sys.fd(sys.fsopen("proc"));
    defer sys.close(fs);
    _ = try sys.check(sys.fsconfig(fs, sys.FSCONFIG_CMD_CREATE, null, null));
    return sys.fd(sys.fsmount(fs, sys.MOUNT_ATTR_NOSUID | sys.MOUNT_ATTR_NODEV | sys.MOUNT_ATTR_NOEXEC));
}

/// `path` relative to procfs ("sys/net/ipv4/ip_forward", "thread-self/attr/exec"). Plain
/// symlinks inside procfs (self, thread-self) are followed; nothing may lead out of it.
pub fn open(path: [*:0]const u8, flags: u32) sys.Errno!i32 {
    std.debug.assert(root >= 0);
    const how = sys.OpenHow{
        .flags = flags | sys.O_CLOEXEC | sys.O_NOFOLLOW,
        .mode = 0,
        .resolve = sys.RESOLVE_BENEATH | sys.RESOLVE_NO_MAGICLINKS | sys.RESOLVE_NO_XDEV,
    };
    const f = try sys.fd(sys.openat2(root, path, &how));
    errdefer sys.close(f);
    if (try sys.fsMagic(f) != sys.PROC_SUPER_MAGIC) return sys.fail(.XDEV);
    return f;
}

/// Writes `value` to a procfs file opened through `open`.
pub fn write(path: [*:0]const u8, value: []const u8) sys.Errno!void {
    const f = try open(path, sys.O_WRONLY);
    defer sys.close(f);
    try sys.writeAll(f, value);
}

