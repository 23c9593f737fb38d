//! Process ops: names, limits, scheduling, keyring, LSM labels, identity and capabilities.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");
const ctx = @import("ctx.zig");
const procfs = @import("procfs.zig");

const Error = ctx.Error;
const Reader = plan.Reader;

pub fn hostname(r: *Reader) Error!void {
    _ = try sys.check(sys.sethostname(try r.str()));
}

pub fn domainname(r: *Reader) Error!void {
    _ = try sys.check(sys.setdomainname(try r.str()));
}

pub fn setsid() Error!void {
    const rc = linux.syscall0(.setsid);
    // Already a session leader (the init after a console op): nothing to do.
    if (linux.E.init(rc) != .PERM) _ = try sys.check(rc);
}

pub fn rlimit(r: *Reader) Error!void {
    const resource = try r.u32_();
    const lim = linux.rlimit{ .cur = try r.u64_(), .max = try r.u64_() };
    _ = try sys.check(linux.syscall4(.prlimit64, 0, resource, @intFromPtr(&lim), 0));
}

/// name str, perm_set u32 — join a new session keyring (runc names it "_ses.<id>") and add
/// perm_set to its permissions so the container's user can search it.
/// An empty payload joins an anonymous keyring with default permissions (exec plans).
pub fn newKeyring(r: *Reader) Error!void {
    const KEYCTL_JOIN_SESSION_KEYRING = 1;
    const KEYCTL_SETPERM = 5;
    const KEYCTL_DESCRIBE = 6;
    if (r.bytes.len == 0) {
        const anon = linux.syscall2(.keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0);
        if (linux.E.init(anon) != .NOSYS) _ = try sys.check(anon);
        return;
    }
    const name = try r.str();
    const perm_set = try r.u32_();
    const rc = linux.syscall2(.keyctl, KEYCTL_JOIN_SESSION_KEYRING, @intFromPtr(name.ptr));
    // Keyrings not built into the kernel: nothing to isolate.
    if (linux.E.init(rc) == .NOSYS) return;
    const serial = sys.check(rc) catch |e| {
        ctx.setDetail("join session keyring {s}", .{name});
        return e;
    };
    // The description reads "type;uid;gid;perm;name" with perm in hex.
    var desc: [256]u8 = undefined;
    const n = try sys.check(linux.syscall4(.keyctl, KEYCTL_DESCRIBE, serial, @intFromPtr(&desc), desc.len));
    var fields = std.mem.splitScalar(u8, desc[0..@min(n, desc.len)], ';');
    for (0..3) |_| _ = fields.next();
    const perm = std.fmt.parseInt(u32, fields.next() orelse "", 16) catch return ctx.failWith("unreadable keyring description", .{});
    _ = sys.check(linux.syscall3(.keyctl, KEYCTL_SETPERM, serial, perm | perm_set)) catch |e| {
        ctx.setDetail("set the session keyring's permissions", .{});
        return e;
    };
}

/// paths strs (relative to procfs), value str — write value to the first path that exists (an
/// LSM's exec attribute: AppArmor's thread-self/attr/apparmor/exec, else the shared
/// attr/exec). Through the init's own procfs: a failed write fails create.
pub fn execAttr(r: *Reader) Error!void {
    const count = try r.strsCount();
    var paths: [4][:0]const u8 = undefined;
    if (count == 0 or count > paths.len) return error.BadPlan;
    for (0..count) |i| {
        paths[i] = try r.str();
        if (paths[i].len == 0 or paths[i][0] == '/') return error.BadPlan;
    }
    const value = try r.str();
    for (paths[0..count], 0..) |path, i| {
        const fd = procfs.open(path, sys.O_WRONLY) catch |e| {
            if (sys.last_errno == @intFromEnum(linux.E.NOENT) and i + 1 < count) continue;
            ctx.setDetail("open /proc/{s}", .{path});
            return e;
        };
        defer sys.close(fd);
        sys.writeAll(fd, value) catch |e| {
            ctx.setDetail("write /proc/{s}", .{path});
            return e;
        };
        return;
    }
}

pub fn oomScoreAdj(r: *Reader) Error!void {
    const value = try r.i32_();
    var buf: [16]u8 = undefined;
    const text = std.fmt.bufPrint(&buf, "{d}", .{value}) catch unreachable;
    procfs.write("self/oom_score_adj", text) catch |e| {
        ctx.setDetail("write /proc/self/oom_score_adj", .{});
        return e;
    };
}

const SchedAttr = extern struct { size: u32, policy: u32, flags: u64, nice: i32, priority: u32, runtime: u64, deadline: u64, period: u64 };

pub fn scheduler(r: *Reader) Error!void {
    var attr = SchedAttr{ .size = @sizeOf(SchedAttr), .policy = try r.u32_(), .flags = 0, .nice = try r.i32_(), .priority = try r.u32_(), .runtime = 0, .deadline = 0, .period = 0 };
    attr.flags = try r.u64_();
    attr.runtime = try r.u64_();
    attr.deadline = try r.u64_();
    attr.period = try r.u64_();
    _ = try sys.check(sys.schedSetattr(&attr));
}

pub fn ioPriority(r: *Reader) Error!void {
    const class = try r.u32_();
    const prio = try r.u32_();
    const IOPRIO_WHO_PROCESS = 1;
    _ = try sys.check(sys.ioprioSet(IOPRIO_WHO_PROCESS, 0, (class << 13) | prio));
}

pub fn personality(r: *Reader) Error!void {
    _ = try sys.check(sys.personality(try r.u32_()));
}

/// mode u32 (with its MPOL_F_* flags), nodemask bytes: set_mempolicy for the process and what it execs.
pub fn memPolicy(r: *Reader) Error!void {
    const mode = try r.u32_();
    const mask = try r.bytes_();
    // The kernel reads maxnode - 1 bits.
    const maxnode: usize = if (mask.len == 0) 0 else mask.len * 8 + 1;
    _ = try sys.check(linux.syscall3(.set_mempolicy, mode, if (mask.len == 0) 0 else @intFromPtr(mask.ptr), maxnode));
}

pub fn cpuAffinity(r: *Reader) Error!void {
    const mask = try r.bytes_();
    _ = try sys.check(linux.syscall3(.sched_setaffinity, 0, mask.len, @intFromPtr(mask.ptr)));
}

const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const cap_max = 64;

fn prctl(option: i32, arg: usize, arg3: usize) sys.Errno!void {
    _ = try sys.check(linux.prctl(option, arg, arg3, 0, 0));
}

/// Bounding set drop, groups, gid, uid (keeping capabilities), capset, ambient, umask, NNP.
pub fn identity(r: *Reader) Error!void {
    const uid = try r.u32_();
    const gid = try r.u32_();
    const gids = try r.bytes_();
    const mask = try r.u32_();
    const bounding = try r.u64_();
    const effective = try r.u64_();
    const permitted = try r.u64_();
    const inheritable = try r.u64_();
    const ambient = try r.u64_();
    const nnp = try r.u32_();
    if (gids.len % 4 != 0 or gids.len / 4 > 65536) return error.BadPlan;

    var cap: u6 = 0;
    while (true) : (cap += 1) {
        if (bounding & (@as(u64, 1) << cap) == 0) {
            const rc = linux.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
            // EINVAL: past the kernel's last capability.
            if (linux.E.init(rc) == .INVAL) break;
            _ = sys.check(rc) catch return ctx.failWith("drop capability {d} from the bounding set", .{cap});
        }
        if (cap == cap_max - 1) break;
    }
    try setGroups(gids);
    _ = sys.check(sys.setresgid(gid)) catch |e| {
        ctx.setDetail("setresgid {d}", .{gid});
        return e;
    };
    try prctl(PR_SET_KEEPCAPS, 1, 0);
    _ = sys.check(linux.setresuid(uid, uid, uid)) catch |e| {
        ctx.setDetail("setresuid {d}", .{uid});
        return e;
    };
    try capset(effective, permitted, inheritable);
    try prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0);
    cap = 0;
    while (true) : (cap += 1) {
        // The kernel refuses an ambient cap that is not also permitted and inheritable; runc
        // skips those too (its default spec asks for ambient caps with no inheritable ones).
        if (ambient & (@as(u64, 1) << cap) != 0) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap) catch {};
        if (cap == cap_max - 1) break;
    }
    if (mask != std.math.maxInt(u32)) _ = sys.umask(mask);
    if (nnp != 0) try prctl(PR_SET_NO_NEW_PRIVS, 1, 0);
}

fn setGroups(gids: []const u8) Error!void {
    var list: [65536]u32 = undefined;
    const n = gids.len / 4;
    for (0..n) |i| list[i] = std.mem.readInt(u32, gids[i * 4 ..][0..4], .little);
    const rc = linux.syscall2(.setgroups, n, @intFromPtr(&list));
    // A user namespace with setgroups denied: an empty list is all it could be anyway.
    if (n == 0 and linux.E.init(rc) == .PERM) return;
    _ = sys.check(rc) catch |e| {
        ctx.setDetail("setgroups", .{});
        return e;
    };
}

fn capset(effective: u64, permitted: u64, inheritable: u64) Error!void {
    const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    var header = linux.cap_user_header_t{ .version = LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    const data = [2]linux.cap_user_data_t{
        .{ .effective = @truncate(effective), .permitted = @truncate(permitted), .inheritable = @truncate(inheritable) },
        .{ .effective = @truncate(effective >> 32), .permitted = @truncate(permitted >> 32), .inheritable = @truncate(inheritable >> 32) },
    };
    _ = sys.check(linux.syscall2(.capset, @intFromPtr(&header), @intFromPtr(&data))) catch |e| {
        ctx.setDetail("capset", .{});
        return e;
    };
}

pub fn chdir(r: *Reader) Error!void {
    const dir = try r.str();
    _ = sys.check(linux.chdir(dir)) catch |e| {
        ctx.setDetail("chdir to cwd ({s}) set in config.json failed", .{dir});
        return e;
    };
}

pub fn nonDumpable() Error!void {
    const PR_SET_DUMPABLE = 4;
    try prctl(PR_SET_DUMPABLE, 0, 0);
}

pub fn seccomp(r: *Reader) Error!void {
    const flags = try r.u32_();
    const program = try r.bytes_();
    const listener = try r.u32_();
    if (program.len % 8 != 0 or program.len / 8 > 4096 or program.len == 0) return error.BadPlan;
    const Prog = extern struct { len: u16, filter: usize };
    const prog = Prog{ .len = @intCast(program.len / 8), .filter = @intFromPtr(program.ptr) };
    const SECCOMP_SET_MODE_FILTER = 1;
    const fd = sys.check(linux.seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)) catch |e| {
        ctx.setDetail("load the seccomp filter", .{});
        return e;
    };
    // NEW_LISTENER returns the notify fd. Hand-off (src/seccomp/listener.ts is the other side):
    // a WAIT record tagged seccomp_wait_tag, then one record with the fd (SCM_RIGHTS), then wait
    // for the ack the runtime sends once the agent at listenerPath has it.
    if (listener != 0) {
        ctx.send(plan.Msg.wait, 0, seccomp_wait_tag, "");
        sendListener(@intCast(fd)) catch |e| {
            ctx.setDetail("send the seccomp listener fd", .{});
            return e;
        };
        ctx.awaitAck();
    }
}

/// WaitTag.Seccomp in src/plan/compile.ts.
const seccomp_wait_tag: i32 = 3;


fn sendListener(fd: i32) sys.Errno!void {
    try sys.sendFd(ctx.sync_fd, fd, "s");
    sys.close(fd);
}
