//! What this kernel's seccomp supports, asked without installing anything (as libseccomp does):
//!   flags:   seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL) fails with EFAULT when the kernel
//!            accepts the flag (it validates flags before reading the program) and EINVAL when not;
//!   actions: seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) is 0 when the action exists.
const std = @import("std");
const linux = std.os.linux;

const SET_MODE_FILTER = 1;
const GET_ACTION_AVAIL = 2;
const FLAG_NEW_LISTENER: u32 = 1 << 3;
const FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;

/// Bits 0..7: SECCOMP_FILTER_FLAG_* (same bit values) the kernel accepts.
/// Bits 16..23: actions, in `actions` order.
pub const actions = [_]u32{
    0x8000_0000, // KILL_PROCESS
    0x0000_0000, // KILL_THREAD
    0x0003_0000, // TRAP
    0x0005_0000, // ERRNO
    0x7fc0_0000, // USER_NOTIF
    0x7ff0_0000, // TRACE
    0x7ffc_0000, // LOG
    0x7fff_0000, // ALLOW
};
pub const action_shift = 16;

fn flagAccepted(flag: u32) bool {
    // WAIT_KILLABLE_RECV is only valid together with NEW_LISTENER.
    const flags = if (flag == FLAG_WAIT_KILLABLE_RECV) flag | FLAG_NEW_LISTENER else flag;
    const rc = linux.seccomp(SET_MODE_FILTER, flags, null);
    return linux.E.init(rc) == .FAULT;
}

pub fn probe() u32 {
    var mask: u32 = 0;
    var bit: u5 = 0;
    while (bit < 8) : (bit += 1) {
        if (flagAccepted(@as(u32, 1) << bit)) mask |= @as(u32, 1) << bit;
    }
    for (actions, 0..) |action, i| {
        const rc = linux.seccomp(GET_ACTION_AVAIL, 0, &action);
        if (linux.E.init(rc) == .SUCCESS) mask |= @as(u32, 1) << @intCast(action_shift + i);
    }
    return mask;
}

test "the kernel running the tests has seccomp filters and the basic actions" {
    const mask = probe();
    try std.testing.expect(mask & (1 << (action_shift + 7)) != 0); // ALLOW
    try std.testing.expect(mask & (1 << (action_shift + 3)) != 0); // ERRNO
}
