//! Static facts about a finished program: it is well-formed (every jump lands inside, every path
//! ends in `ret`), and how many instructions its longest paths run.
const std = @import("std");
const emit = @import("emit.zig");

const op = emit.op;

pub const Paths = struct {
    /// Longest path from the first instruction to a `ret`.
    all: u32,
    /// Longest such path that never enters one of the `excluded` labels (argument checks).
    plain: u32,
};

fn successors(prog: []const emit.Insn, i: usize) [2]?usize {
    const insn = prog[i];
    if (insn.code == op.ret_k) return .{ null, null };
    if (insn.code == op.ja) return .{ i + 1 + insn.k, null };
    if (insn.code & 0x07 == 0x05) return .{ i + 1 + insn.jt, i + 1 + insn.jf };
    return .{ i + 1, null };
}

/// Dynamic programming from the end: all jumps go forward, so successors are done first.
pub fn longestPaths(prog: []const emit.Insn, excluded_labels: []const u32, alloc: std.mem.Allocator) error{OutOfMemory}!Paths {
    std.debug.assert(prog.len > 0 and prog.len <= emit.max_insns);
    const all = try alloc.alloc(u16, prog.len);
    const plain = try alloc.alloc(u16, prog.len); // 0: no plain path from here
    const excluded = try alloc.alloc(bool, prog.len);
    @memset(excluded, false);
    for (excluded_labels) |label| excluded[prog.len - label] = true;
    var i = prog.len;
    while (i > 0) {
        i -= 1;
        const next = successors(prog, i);
        var best_all: u16 = 0;
        var best_plain: u16 = 0;
        var is_ret = true;
        for (next) |maybe| {
            const s = maybe orelse continue;
            is_ret = false;
            std.debug.assert(s > i and s < prog.len);
            best_all = @max(best_all, all[s]);
            best_plain = @max(best_plain, plain[s]);
        }
        all[i] = 1 + best_all;
        plain[i] = if (excluded[i]) 0 else if (is_ret) 1 else if (best_plain == 0) 0 else 1 + best_plain;
    }
    return .{ .all = all[0], .plain = plain[0] };
}

/// What the kernel's checker would refuse: a jump outside, or falling off the end.
pub fn wellFormed(prog: []const emit.Insn) bool {
    if (prog.len == 0 or prog.len > emit.max_insns) return false;
    if (prog[prog.len - 1].code != op.ret_k) return false;
    for (prog, 0..) |_, i| {
        for (successors(prog, i)) |maybe| {
            const s = maybe orelse continue;
            if (s >= prog.len) return false;
        }
    }
    return true;
}
