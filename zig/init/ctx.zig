//! What the init's ops share: the sync socket, the rootfs fd, the resolved exec target, and the
//! detail text of the current failure. All storage is static: the init never allocates.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");
const plan = @import("plan");

pub const Error = sys.Errno || plan.DecodeError || error{Detail};

pub const argv_max = plan.strs_count_max;

pub var sync_fd: i32 = -1;
pub var op_index: u32 = 0;
/// The kind of the op running, named in the error line printed after `create` returned.
pub var op_kind: plan.Op = .wait_parent;
pub var root_fd: i32 = -1;
/// Fds [3, 3 + keep) survive the final exec (--preserve-fds, LISTEN_FDS).
pub var keep: u32 = 0;
/// After ReportCreated the runtime may be gone: failures go to stderr instead.
pub var reported: bool = false;

pub var exec_path_buf: [plan.string_bytes_max * 2 + 2]u8 = undefined;
pub var exec_path: ?[*:0]const u8 = null;
pub var exec_argv: [argv_max + 1:null]?[*:0]const u8 = undefined;
pub var exec_envp: [argv_max + 1:null]?[*:0]const u8 = undefined;

var detail_buf: [400]u8 = undefined;
pub var detail: []const u8 = "";

/// Sets the text that goes with the failure (errno is added by the runtime).
pub fn setDetail(comptime fmt: []const u8, args: anytype) void {
    detail = std.fmt.bufPrint(&detail_buf, fmt, args) catch detail_buf[0..];
}

/// Fails with a message only (errno 0): the text is the whole cause.
pub fn failWith(comptime fmt: []const u8, args: anytype) Error {
    setDetail(fmt, args);
    sys.last_errno = 0;
    return error.Detail;
}

pub fn send(kind: u32, errno: i32, pid: i32, text: []const u8) void {
    _ = sendRecord(kind, errno, pid, text);
}

/// One record to the runtime; false when it could not go (the runtime is gone: EPIPE).
pub fn sendRecord(kind: u32, errno: i32, pid: i32, text: []const u8) bool {
    var msg = std.mem.zeroes(plan.Msg);
    msg.kind = kind;
    msg.op_index = op_index;
    msg.errno = errno;
    msg.pid = pid;
    const n = @min(text.len, msg.text.len - 1);
    @memcpy(msg.text[0..n], text[0..n]);
    const rc = linux.sendto(sync_fd, std.mem.asBytes(&msg), @sizeOf(plan.Msg), linux.MSG.NOSIGNAL, null, 0);
    return linux.E.init(rc) == .SUCCESS;
}

/// Blocks for the runtime's one-byte answer; anything but 0, or EOF (the runtime died: nobody
/// would ever answer), ends the init quietly.
pub fn awaitAck() void {
    var b: [1]u8 = .{1};
    const rc = sys.retry(linux.read, .{ sync_fd, &b, 1 }) catch linux.exit_group(1);
    if (rc != 1 or b[0] != 0) linux.exit_group(1);
}

/// Splits "/a/b/c" into parent "/a/b" (into `buf`) and leaf "c".
pub const PathBuf = [plan.string_bytes_max * 2 + 4]u8;

pub fn splitPath(buf: *PathBuf, path: []const u8) struct { parent: [:0]const u8, leaf: [:0]const u8 } {
    var end = path.len;
    while (end > 1 and path[end - 1] == '/') end -= 1;
    const slash = std.mem.lastIndexOfScalar(u8, path[0..end], '/');
    const leaf_start = if (slash) |s| s + 1 else 0;
    const parent_len = if (slash) |s| (if (s == 0) 1 else s) else 1;
    if (slash == null) {
        buf[0] = '/';
    } else {
        @memcpy(buf[0..parent_len], path[0..parent_len]);
    }
    buf[parent_len] = 0;
    const leaf_len = end - leaf_start;
    @memcpy(buf[parent_len + 1 .. parent_len + 1 + leaf_len], path[leaf_start..end]);
    buf[parent_len + 1 + leaf_len] = 0;
    return .{ .parent = buf[0..parent_len :0], .leaf = buf[parent_len + 1 .. parent_len + 1 + leaf_len :0] };
}

/// strerror(3)-like text for the errnos an init step meets; the runtime has its own table.
pub fn errText(errno: i32) []const u8 {
    const e: linux.E = @enumFromInt(@as(u16, @intCast(@max(0, @min(errno, 4095)))));
    return switch (e) {
        .PERM => "operation not permitted",
        .NOENT => "no such file or directory",
        .SRCH => "no such process",
        .INTR => "interrupted system call",
        .IO => "input/output error",
        .NOEXEC => "exec format error",
        .BADF => "bad file descriptor",
        .AGAIN => "resource temporarily unavailable",
        .NOMEM => "cannot allocate memory",
        .ACCES => "permission denied",
        .FAULT => "bad address",
        .BUSY => "device or resource busy",
        .EXIST => "file exists",
        .XDEV => "invalid cross-device link",
        .NODEV => "no such device",
        .NOTDIR => "not a directory",
        .ISDIR => "is a directory",
        .INVAL => "invalid argument",
        .MFILE => "too many open files",
        .TXTBSY => "text file busy",
        .NOSPC => "no space left on device",
        .ROFS => "read-only file system",
        .PIPE => "broken pipe",
        .RANGE => "numerical result out of range",
        .NAMETOOLONG => "file name too long",
        .NOSYS => "function not implemented",
        .LOOP => "too many levels of symbolic links",
        .OPNOTSUPP => "operation not supported",
        .USERS => "too many users",
        else => @tagName(e),
    };
}
