//! linux.netDevices: a named interface moved between network namespaces over rtnetlink, renamed
//! in the same RTM_NEWLINK (atomic: the name never exists twice), its addresses and up state
//! kept. The kernel drops an interface's addresses when it changes namespace, so they are read
//! before the move and added again through a netlink socket opened in the target namespace
//! (this thread enters it for the socket() call only).
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys");

const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_EXCL: u16 = 0x200;
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_FD: u16 = 28;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFF_UP: u32 = 1;
const RT_SCOPE_LINK: u8 = 253;
const RT_SCOPE_HOST: u8 = 254;
const AF_UNSPEC: u8 = 0;
const CLONE_NEWNET: u32 = 0x40000000;

const Header = extern struct { len: u32, type: u16, flags: u16, seq: u32, pid: u32 };
const IfInfo = extern struct { family: u8, pad: u8 = 0, type: u16 = 0, index: i32, flags: u32, change: u32 };
const IfAddr = extern struct { family: u8, prefixlen: u8, flags: u8, scope: u8, index: u32 };
const Attr = extern struct { len: u16, type: u16 };

const addrs_max = 32;
const buf_bytes = 16384;

/// One address to add back: the ifaddrmsg and its IFA_LOCAL/IFA_ADDRESS/IFA_BROADCAST values.
const Address = struct {
    msg: IfAddr,
    local: [16]u8 = undefined,
    local_len: u8 = 0,
    address: [16]u8 = undefined,
    address_len: u8 = 0,
    broadcast: [4]u8 = undefined,
    broadcast_len: u8 = 0,
};

/// Which step failed, for the caller's message.
pub const Step = enum(i32) { none = 0, enter_from = 1, socket = 2, find = 3, addresses = 4, move = 5, enter_to = 6, add_address = 7, up = 8 };

/// Moves interface `name`, seen from namespace `from_fd` (-1: this thread's), into namespace
/// `to_fd` as `new_name`, keeping its global addresses and its up state. This thread ends in
/// the namespace it started in.
pub fn move(from_fd: i32, name: []const u8, to_fd: i32, new_name: []const u8, step: *Step) sys.Errno!void {
    std.debug.assert(name.len > 0 and name.len < 16 and new_name.len > 0 and new_name.len < 16);
    const home = try sys.open("/proc/thread-self/ns/net", sys.O_RDONLY | sys.O_CLOEXEC);
    defer {
        _ = sys.setns(home, CLONE_NEWNET);
        sys.close(home);
    }
    if (from_fd >= 0) {
        step.* = .enter_from;
        _ = try sys.check(sys.setns(from_fd, CLONE_NEWNET));
    }
    step.* = .socket;
    const src = try socket();
    defer sys.close(src);
    step.* = .find;
    var up = false;
    const index = try linkIndex(src, name, &up);
    step.* = .addresses;
    var addrs: [addrs_max]Address = undefined;
    const n = try addresses(src, index, &addrs);
    step.* = .move;
    try moveLink(src, index, to_fd, new_name);
    step.* = .enter_to;
    _ = try sys.check(sys.setns(to_fd, CLONE_NEWNET));
    step.* = .socket;
    const dst = try socket();
    defer sys.close(dst);
    step.* = .find;
    var ignored = false;
    const new_index = try linkIndex(dst, new_name, &ignored);
    step.* = .add_address;
    for (addrs[0..n]) |*a| try addAddress(dst, new_index, a);
    if (up) {
        step.* = .up;
        try setUp(dst, new_index);
    }
    step.* = .none;
}

fn socket() sys.Errno!i32 {
    return sys.fd(linux.socket(linux.AF.NETLINK, linux.SOCK.RAW | linux.SOCK.CLOEXEC, linux.NETLINK.ROUTE));
}

/// A request: header + fixed part + attributes, built in `buf`.
const Request = struct {
    buf: [512]u8 align(4) = undefined,
    len: usize = 0,

    fn start(r: *Request, msg_type: u16, flags: u16, body: anytype) void {
        r.len = @sizeOf(Header);
        r.put(std.mem.asBytes(&body));
        const h: *Header = @ptrCast(&r.buf);
        h.* = .{ .len = 0, .type = msg_type, .flags = flags | NLM_F_REQUEST, .seq = 1, .pid = 0 };
    }

    fn put(r: *Request, bytes: []const u8) void {
        std.debug.assert(r.len + bytes.len + 4 <= r.buf.len);
        @memcpy(r.buf[r.len..][0..bytes.len], bytes);
        r.len = std.mem.alignForward(usize, r.len + bytes.len, 4);
    }

    fn attr(r: *Request, t: u16, value: []const u8) void {
        const a = Attr{ .len = @intCast(@sizeOf(Attr) + value.len), .type = t };
        const at = r.len;
        r.put(std.mem.asBytes(&a));
        r.len = at + @sizeOf(Attr);
        r.put(value);
    }

    fn send(r: *Request, sock: i32) sys.Errno!void {
        const h: *Header = @ptrCast(&r.buf);
        h.len = @intCast(r.len);
        const n = try sys.check(linux.sendto(sock, &r.buf, r.len, 0, null, 0));
        if (n != r.len) return sys.fail(.IO);
    }
};

/// Reads replies until NLMSG_DONE or an ack; calls `each` for every other message.
fn replies(sock: i32, ctx: anytype, comptime each: fn (@TypeOf(ctx), *const Header, []const u8) sys.Errno!void) sys.Errno!void {
    var buf: [buf_bytes]u8 align(4) = undefined;
    var rounds: usize = 0;
    while (rounds < 1024) : (rounds += 1) {
        const n = try sys.check(linux.recvfrom(sock, &buf, buf.len, 0, null, null));
        var off: usize = 0;
        while (off + @sizeOf(Header) <= n) {
            const h: *const Header = @ptrCast(@alignCast(&buf[off]));
            if (h.len < @sizeOf(Header) or off + h.len > n) return sys.fail(.PROTO);
            const body = buf[off + @sizeOf(Header) .. off + h.len];
            switch (h.type) {
                NLMSG_DONE => return,
                NLMSG_ERROR => {
                    const code = std.mem.readInt(i32, body[0..4], .little);
                    if (code == 0) return;
                    return sys.fail(@enumFromInt(@as(u16, @intCast(-code))));
                },
                else => try each(ctx, h, body),
            }
            off += std.mem.alignForward(usize, h.len, 4);
        }
    }
    return sys.fail(.PROTO);
}

const LinkFound = struct { index: i32 = 0, flags: u32 = 0 };

fn linkIndex(sock: i32, name: []const u8, up: *bool) sys.Errno!i32 {
    var r = Request{};
    r.start(RTM_GETLINK, NLM_F_ACK, IfInfo{ .family = AF_UNSPEC, .index = 0, .flags = 0, .change = 0 });
    var zname: [16]u8 = std.mem.zeroes([16]u8);
    @memcpy(zname[0..name.len], name);
    r.attr(IFLA_IFNAME, zname[0 .. name.len + 1]);
    try r.send(sock);
    var found = LinkFound{};
    try replies(sock, &found, struct {
        fn f(out: *LinkFound, h: *const Header, body: []const u8) sys.Errno!void {
            if (h.type != RTM_NEWLINK or body.len < @sizeOf(IfInfo)) return;
            const info: *align(1) const IfInfo = @ptrCast(body.ptr);
            out.index = info.index;
            out.flags = info.flags;
        }
    }.f);
    if (found.index <= 0) return sys.fail(.NODEV);
    up.* = found.flags & IFF_UP != 0;
    return found.index;
}

const AddrList = struct { index: u32, out: *[addrs_max]Address, n: usize = 0 };

/// The interface's addresses, but link-local and host-scope ones (the kernel makes those).
fn addresses(sock: i32, index: i32, out: *[addrs_max]Address) sys.Errno!usize {
    var r = Request{};
    r.start(RTM_GETADDR, NLM_F_DUMP, IfAddr{ .family = AF_UNSPEC, .prefixlen = 0, .flags = 0, .scope = 0, .index = 0 });
    try r.send(sock);
    var list = AddrList{ .index = @intCast(index), .out = out };
    try replies(sock, &list, struct {
        fn f(l: *AddrList, h: *const Header, body: []const u8) sys.Errno!void {
            if (h.type != RTM_NEWADDR or body.len < @sizeOf(IfAddr)) return;
            const msg: *align(1) const IfAddr = @ptrCast(body.ptr);
            if (msg.index != l.index or msg.scope == RT_SCOPE_LINK or msg.scope == RT_SCOPE_HOST) return;
            if (l.n == addrs_max) return sys.fail(.NOSPC);
            var a = Address{ .msg = msg.* };
            var off: usize = std.mem.alignForward(usize, @sizeOf(IfAddr), 4);
            while (off + @sizeOf(Attr) <= body.len) {
                const at: *align(1) const Attr = @ptrCast(body[off..].ptr);
                if (at.len < @sizeOf(Attr) or off + at.len > body.len) break;
                const v = body[off + @sizeOf(Attr) .. off + at.len];
                switch (at.type) {
                    IFA_LOCAL => if (v.len <= 16) {
                        @memcpy(a.local[0..v.len], v);
                        a.local_len = @intCast(v.len);
                    },
                    IFA_ADDRESS => if (v.len <= 16) {
                        @memcpy(a.address[0..v.len], v);
                        a.address_len = @intCast(v.len);
                    },
                    IFA_BROADCAST => if (v.len == 4) {
                        @memcpy(a.broadcast[0..4], v);
                        a.broadcast_len = 4;
                    },
                    else => {},
                }
                off += std.mem.alignForward(usize, at.len, 4);
            }
            l.out[l.n] = a;
            l.n += 1;
        }
    }.f);
    return list.n;
}

fn moveLink(sock: i32, index: i32, to_fd: i32, new_name: []const u8) sys.Errno!void {
    var r = Request{};
    r.start(RTM_NEWLINK, NLM_F_ACK, IfInfo{ .family = AF_UNSPEC, .index = index, .flags = 0, .change = 0 });
    const fd_value: u32 = @intCast(to_fd);
    r.attr(IFLA_NET_NS_FD, std.mem.asBytes(&fd_value));
    var zname: [16]u8 = std.mem.zeroes([16]u8);
    @memcpy(zname[0..new_name.len], new_name);
    r.attr(IFLA_IFNAME, zname[0 .. new_name.len + 1]);
    try r.send(sock);
    try replies(sock, {}, ignore);
}

fn addAddress(sock: i32, index: i32, a: *const Address) sys.Errno!void {
    var r = Request{};
    var msg = a.msg;
    msg.index = @intCast(index);
    r.start(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, msg);
    if (a.local_len > 0) r.attr(IFA_LOCAL, a.local[0..a.local_len]);
    if (a.address_len > 0) r.attr(IFA_ADDRESS, a.address[0..a.address_len]);
    if (a.broadcast_len > 0) r.attr(IFA_BROADCAST, a.broadcast[0..a.broadcast_len]);
    try r.send(sock);
    try replies(sock, {}, ignore);
}

fn setUp(sock: i32, index: i32) sys.Errno!void {
    var r = Request{};
    r.start(RTM_NEWLINK, NLM_F_ACK, IfInfo{ .family = AF_UNSPEC, .index = index, .flags = IFF_UP, .change = IFF_UP });
    try r.send(sock);
    try replies(sock, {}, ignore);
}

fn ignore(_: void, _: *const Header, _: []const u8) sys.Errno!void {}
