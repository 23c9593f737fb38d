//! bunrunc-probe: runs inside test containers and reports what busybox cannot show.
//!   probe session-keyring   the session keyring's description: type;uid;gid;perm;name
const std = @import("std");
const linux = std.os.linux;

const KEYCTL_DESCRIBE = 6;
const KEY_SPEC_SESSION_KEYRING: i32 = -3;

pub fn main() u8 {
    var args = std.process.args();
    _ = args.next();
    const cmd = args.next() orelse return usage();
    if (std.mem.eql(u8, cmd, "session-keyring")) return sessionKeyring();
    return usage();
}

fn usage() u8 {
    say("usage: probe session-keyring\n");
    return 2;
}

fn say(text: []const u8) void {
    _ = linux.write(1, text.ptr, text.len);
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
