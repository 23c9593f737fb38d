//! OOM notification on cgroup v1: an eventfd registered through cgroup.event_control against
//! memory.oom_control. TS registers it and reads the counter without blocking (EFD_NONBLOCK).
const std = @import("std");
const linux = std.os.linux;

pub const EFD_CLOEXEC: u32 = 0o2000000;
pub const EFD_NONBLOCK: u32 = 0o4000;

/// A non-blocking, close-on-exec eventfd, or -errno.
pub fn eventfd() i32 {
    const rc = linux.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const e = linux.E.init(rc);
    if (e != .SUCCESS) return -@as(i32, @intFromEnum(e));
    return @intCast(rc);
}
