//! process.terminal: a pty from the container's own devpts; the master goes to the
//! --console-socket with SCM_RIGHTS (what conmon and containerd's shim receive), the slave
//! becomes stdio and the controlling terminal of a new session. For create it is also bound onto
//! /dev/console, which is reached without following any symlink and is a file this step made
//! or a plain file or device the rootfs had, never what a planted symlink names (the
//! CVE-2025-52565 class).
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");

const TIOCSCTTY = 0x540E;
const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;

pub fn console(r: *plan.Reader) ctx.Error!void {
    const socket = try r.i32_();
    const rows = try r.u32_();
    const cols = try r.u32_();
    const mount_console = try r.u32_();
    if (mount_console > 1) return error.BadPlan;
    const master = sys.open("/dev/ptmx", sys.O_RDWR | sys.O_NOCTTY) catch |e| {
        ctx.setDetail("open /dev/ptmx", .{});
        return e;
    };
    defer sys.close(master);
    var unlock: i32 = 0;
    _ = try sys.check(linux.ioctl(master, TIOCSPTLCK, @intFromPtr(&unlock)));
    var ptn: u32 = 0;
    _ = try sys.check(linux.ioctl(master, TIOCGPTN, @intFromPtr(&ptn)));
    const slave = try sys.fd(linux.ioctl(master, TIOCGPTPEER, sys.O_RDWR | sys.O_NOCTTY | sys.O_CLOEXEC));
    if (rows != 0 or cols != 0) {
        const ws = extern struct { row: u16, col: u16, xpixel: u16, ypixel: u16 }{ .row = @truncate(rows), .col = @truncate(cols), .xpixel = 0, .ypixel = 0 };
        _ = try sys.check(linux.ioctl(master, TIOCSWINSZ, @intFromPtr(&ws)));
    }
    var name_buf: [32]u8 = undefined;
    const name = std.fmt.bufPrint(&name_buf, "/dev/pts/{d}", .{ptn}) catch unreachable;
    sys.sendFd(socket, master, name) catch |e| {
        ctx.setDetail("send the pty master to the console socket", .{});
        return e;
    };
    sys.close(socket);
    if (mount_console != 0) try bindConsole(slave);
    _ = try sys.check(linux.syscall0(.setsid));
    _ = try sys.check(linux.ioctl(slave, TIOCSCTTY, 0));
    for (0..3) |i| _ = try sys.check(linux.dup3(slave, @intCast(i), 0));
    sys.close(slave);
}


/// The pty's slave, cloned (open_tree) and attached onto /dev/console's fd (move_mount).
fn bindConsole(slave: i32) ctx.Error!void {
    std.debug.assert(ctx.root_fd >= 0);
    const how = sys.OpenHow{ .flags = sys.O_PATH | sys.O_DIRECTORY | sys.O_CLOEXEC, .mode = 0, .resolve = sys.RESOLVE_IN_ROOT | sys.RESOLVE_NO_SYMLINKS };
    const dev = sys.fd(sys.openat2(ctx.root_fd, "/dev", &how)) catch |e| {
        ctx.setDetail("open /dev without following symlinks", .{});
        return e;
    };
    defer sys.close(dev);
    const console_fd = try consoleFile(dev);
    defer sys.close(console_fd);
    const tree = try sys.fd(sys.openTree(slave, "", sys.OPEN_TREE_CLONE | sys.AT_EMPTY_PATH));
    defer sys.close(tree);
    _ = sys.check(sys.moveMount(tree, "", console_fd, "", sys.MOVE_MOUNT_F_EMPTY_PATH | sys.MOVE_MOUNT_T_EMPTY_PATH)) catch |e| {
        ctx.setDetail("bind the pty onto /dev/console", .{});
        return e;
    };
}

/// An O_PATH fd of dev/console: a regular file or character device already there is used as it
/// is; a symlink (or a fifo, socket, block device) is removed and an empty file made instead.
fn consoleFile(dev: i32) ctx.Error!i32 {
    var st: linux.Stat = undefined;
    const rc = linux.fstatat(dev, "console", &st, sys.AT_SYMLINK_NOFOLLOW);
    if (linux.E.init(rc) == .SUCCESS) {
        const kind = st.mode & linux.S.IFMT;
        if (kind == linux.S.IFDIR) return ctx.failWith("/dev/console is a directory", .{});
        if (kind != linux.S.IFREG and kind != linux.S.IFCHR) {
            _ = sys.check(linux.unlinkat(dev, "console", 0)) catch |e| {
                ctx.setDetail("remove what the rootfs has at /dev/console (not a file or device)", .{});
                return e;
            };
        }
    } else if (linux.E.init(rc) != .NOENT) {
        _ = try sys.check(rc);
    }
    const made = sys.openat(dev, "console", sys.O_CREAT | sys.O_EXCL | sys.O_NOFOLLOW | sys.O_RDONLY, 0o600);
    if (linux.E.init(made) != .EXIST) sys.close(sys.fd(made) catch |e| {
        ctx.setDetail("create /dev/console", .{});
        return e;
    });
    const f = try sys.fd(sys.openat(dev, "console", sys.O_PATH | sys.O_NOFOLLOW, 0));
    errdefer sys.close(f);
    _ = try sys.check(linux.fstat(f, &st));
    // Checked again on the fd itself: whatever raced into the name since, this is what gets covered.
    if (st.mode & linux.S.IFMT != linux.S.IFREG and st.mode & linux.S.IFMT != linux.S.IFCHR) {
        return ctx.failWith("/dev/console is neither a file nor a character device", .{});
    }
    return f;
}
