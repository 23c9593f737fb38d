//! A classic-BPF emitter that writes the program back to front.
//!
//! Every jump in classic BPF goes forward, so writing from the end means each jump's target
//! already has a place when the jump is written, and its distance is known then. Conditional
//! jumps carry 8-bit offsets: a target farther than that gets a nearby stand-in first - a fresh
//! copy of the same `ret` (as cheap as a trampoline, and one instruction shorter to run), or an
//! unconditional `ja` (32-bit offset) to the far label.
//!
//! A *label* is an instruction's distance from the end of the program (the last instruction has
//! label 1); it does not change as more instructions are put in front.
const std = @import("std");

/// struct sock_filter (include/uapi/linux/filter.h).
pub const Insn = extern struct {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
};

comptime {
    std.debug.assert(@sizeOf(Insn) == 8);
}

/// Opcodes used here (include/uapi/linux/bpf_common.h: class | size | mode / op | src).
pub const op = struct {
    pub const ld_abs_w: u16 = 0x00 | 0x00 | 0x20; // BPF_LD | BPF_W | BPF_ABS
    pub const and_k: u16 = 0x04 | 0x50 | 0x00; // BPF_ALU | BPF_AND | BPF_K
    pub const ja: u16 = 0x05 | 0x00; // BPF_JMP | BPF_JA
    pub const jeq_k: u16 = 0x05 | 0x10; // BPF_JMP | BPF_JEQ | BPF_K
    pub const jgt_k: u16 = 0x05 | 0x20; // BPF_JMP | BPF_JGT | BPF_K
    pub const jge_k: u16 = 0x05 | 0x30; // BPF_JMP | BPF_JGE | BPF_K
    pub const ret_k: u16 = 0x06 | 0x00; // BPF_RET | BPF_K
};

/// BPF_MAXINSNS (include/uapi/linux/bpf_common.h): the kernel refuses longer programs.
pub const max_insns: u32 = 4096;

/// Where a jump goes: an emitted instruction, or "a `ret k`" wherever a copy is near enough.
pub const Target = union(enum) {
    label: u32,
    ret: u32,
};

pub const Error = error{ProgramTooLarge};

/// Leaves room for the (at most two) stand-ins one conditional jump may need.
const near_max: u32 = 253;
const ret_cache_len = 32;

pub const Emitter = struct {
    buf: []Insn,
    count: u32 = 0,
    ret_k: [ret_cache_len]u32 = undefined,
    ret_label: [ret_cache_len]u32 = undefined,
    ret_len: u32 = 0,
    ret_next: u32 = 0,

    pub fn init(buf: []Insn) Emitter {
        std.debug.assert(buf.len > 0);
        return .{ .buf = buf[0..@min(buf.len, max_insns)] };
    }

    fn prepend(self: *Emitter, insn: Insn) Error!u32 {
        if (self.count == self.buf.len) return error.ProgramTooLarge;
        self.count += 1;
        self.buf[self.buf.len - self.count] = insn;
        return self.count;
    }

    pub fn stmt(self: *Emitter, code: u16, k: u32) Error!u32 {
        return self.prepend(.{ .code = code, .jt = 0, .jf = 0, .k = k });
    }

    pub fn ret(self: *Emitter, k: u32) Error!u32 {
        const label = try self.stmt(op.ret_k, k);
        self.remember(k, label);
        return label;
    }

    fn remember(self: *Emitter, k: u32, label: u32) void {
        for (self.ret_k[0..self.ret_len], 0..) |cached, i| {
            if (cached == k) {
                self.ret_label[i] = label;
                return;
            }
        }
        const slot = if (self.ret_len < ret_cache_len) blk: {
            self.ret_len += 1;
            break :blk self.ret_len - 1;
        } else blk: {
            self.ret_next = (self.ret_next + 1) % ret_cache_len;
            break :blk self.ret_next;
        };
        self.ret_k[slot] = k;
        self.ret_label[slot] = label;
    }

    /// A label within `near_max` of the front that behaves like `t`, adding a stand-in if needed.
    fn near(self: *Emitter, t: Target) Error!u32 {
        switch (t) {
            .label => |label| {
                std.debug.assert(label <= self.count);
                if (self.count - label <= near_max) return label;
                return self.stmt(op.ja, self.count - label);
            },
            .ret => |k| {
                for (self.ret_k[0..self.ret_len], self.ret_label[0..self.ret_len]) |cached, label| {
                    if (cached == k and self.count - label <= near_max) return label;
                }
                return self.ret(k);
            },
        }
    }

    /// `if (A <code> k) goto jt else goto jf`.
    pub fn jump(self: *Emitter, code: u16, k: u32, jt: Target, jf: Target) Error!u32 {
        const lt = try self.near(jt);
        const lf = try self.near(jf);
        if (lt == lf) return self.goto(.{ .label = lt });
        std.debug.assert(self.count - lt <= 255 and self.count - lf <= 255);
        return self.prepend(.{ .code = code, .jt = @intCast(self.count - lt), .jf = @intCast(self.count - lf), .k = k });
    }

    /// Makes the front of the program lead to `t`; returns the label of the front.
    pub fn goto(self: *Emitter, t: Target) Error!u32 {
        switch (t) {
            .label => |label| {
                std.debug.assert(label <= self.count);
                if (label == self.count) return label;
                return self.stmt(op.ja, self.count - label);
            },
            .ret => |k| {
                if (self.count > 0) {
                    const front = self.buf[self.buf.len - self.count];
                    if (front.code == op.ret_k and front.k == k) return self.count;
                }
                return self.ret(k);
            },
        }
    }

    /// Moves the program to the start of the buffer; returns it.
    pub fn finish(self: *Emitter) []Insn {
        const start = self.buf.len - self.count;
        std.mem.copyForwards(Insn, self.buf[0..self.count], self.buf[start..]);
        return self.buf[0..self.count];
    }
};

test "far conditional targets get a stand-in and every offset fits" {
    var storage: [1200]Insn = undefined;
    var e = Emitter.init(&storage);
    const far = try e.stmt(op.ld_abs_w, 0);
    var i: u32 = 0;
    while (i < 600) : (i += 1) _ = try e.stmt(op.ld_abs_w, 4);
    _ = try e.jump(op.jeq_k, 7, .{ .label = far }, .{ .ret = 0x7fff0000 });
    const prog = e.finish();
    // jeq, its ret stand-in and its ja stand-in, 600 loads, the far target.
    try std.testing.expectEqual(@as(usize, 604), prog.len);
    try std.testing.expectEqual(op.jeq_k, prog[0].code);
    const via = prog[1 + prog[0].jt];
    try std.testing.expectEqual(op.ja, via.code);
    try std.testing.expectEqual(@as(usize, prog.len - 1), 1 + prog[0].jt + 1 + via.k);
    try std.testing.expectEqual(op.ret_k, prog[1 + prog[0].jf].code);
}

test "the program refuses to grow past BPF_MAXINSNS" {
    var storage: [max_insns + 10]Insn = undefined;
    var e = Emitter.init(&storage);
    var i: u32 = 0;
    while (i < max_insns) : (i += 1) _ = try e.stmt(op.ld_abs_w, 0);
    try std.testing.expectError(error.ProgramTooLarge, e.stmt(op.ld_abs_w, 0));
}
