//! bunrunc-probe: runs inside test containers and reports what busybox cannot show.
//!   probe session-keyring   the session keyring's description: type;uid;gid;perm;name
//!   probe mempolicy         get_mempolicy: "mode=M nodes=MASK" (M with its MPOL_F_* flags)
//!   probe exchange DIR A B  swaps DIR/A and DIR/B (renameat2 RENAME_EXCHANGE) in a loop until
//!                           DIR/stop exists; DIR/started appears after the first swap; prints
//!                           the number of swaps (the racing half of the symlink-exchange test)
const std = @import("std");
const linux = std.os.linux;

const KEYCTL_DESCRIBE = 6;
const KEY_SPEC_SESSION_KEYRING: i32 = -3;

pub fn main() u8 {
    var args = std.process.args();
    _ = args.next();
    const cmd = args.next() orelse return usage();
    if (std.mem.eql(u8, cmd, "session-keyring")) return sessionKeyring();
    if (std.mem.eql(u8, cmd, "mempolicy")) return memPolicy();
    if (std.mem.eql(u8, cmd, "exchange")) {
        const dir = args.next() orelse return usage();
        const a = args.next() orelse return usage();
        const b = args.next() orelse return usage();
        return exchange(dir, a, b);
    }
    return usage();
}

fn usage() u8 {
    say("usage: probe session-keyring | mempolicy | exchange DIR A B\n");
    return 2;
}

fn say(text: []const u8) void {
    _ = linux.write(1, text.ptr, text.len);
}

fn memPolicy() u8 {
    var mode: i32 = -1;
    var mask = [_]u64{0} ** 16;
    const rc = linux.syscall5(.get_mempolicy, @intFromPtr(&mode), @intFromPtr(&mask), 16 * 64 + 1, 0, 0);
    if (linux.E.init(rc) != .SUCCESS) {
        say("get_mempolicy failed\n");
        return 1;
    }
    var buf: [64]u8 = undefined;
    say(std.fmt.bufPrint(&buf, "mode={d} nodes={x}\n", .{ mode, mask[0] }) catch unreachable);
    return 0;
}

fn sessionKeyring() u8 {
    var buf: [512]u8 = undefined;
    const id: usize = @bitCast(@as(isize, KEY_SPEC_SESSION_KEYRING));
    const rc = linux.syscall4(.keyctl, KEYCTL_DESCRIBE, id, @intFromPtr(&buf), buf.len);
    if (linux.E.init(rc) != .SUCCESS) {
        say("keyctl failed\n");
        return 1;
    }
    // The kernel counts the trailing NUL.
    const n = @min(rc, buf.len);
    say(buf[0 .. if (n > 0 and buf[n - 1] == 0) n - 1 else n]);
    say("\n");
    return 0;
}

/// Bounded: stops after this many swaps even if nobody writes DIR/stop.
const swaps_max: u64 = 200_000_000;

fn exchange(dir_path: [*:0]const u8, a: [*:0]const u8, b: [*:0]const u8) u8 {
    const dir_rc = linux.open(dir_path, .{ .DIRECTORY = true, .ACCMODE = .RDONLY }, 0);
    if (linux.E.init(dir_rc) != .SUCCESS) {
        say("cannot open the directory\n");
        return 1;
    }
    const dir: i32 = @intCast(dir_rc);
    const RENAME_EXCHANGE = 2;
    var swaps: u64 = 0;
    while (swaps < swaps_max) : (swaps += 1) {
        const rc = linux.renameat2(dir, a, dir, b, RENAME_EXCHANGE);
        if (linux.E.init(rc) != .SUCCESS) {
            say("renameat2 failed\n");
            return 1;
        }
        if (swaps == 0) {
            const f = linux.openat(dir, "started", .{ .CREAT = true, .ACCMODE = .WRONLY }, 0o644);
            if (linux.E.init(f) == .SUCCESS) _ = linux.close(@intCast(f));
        }
        if (swaps % 256 == 0 and linux.E.init(linux.faccessat(dir, "stop", linux.F_OK, 0)) == .SUCCESS) break;
    }
    var buf: [32]u8 = undefined;
    say(std.fmt.bufPrint(&buf, "{d}\n", .{swaps}) catch unreachable);
    return 0;
}
