//! linux.seccomp (as input.zig describes it) -> a classic-BPF program (struct sock_filter[]).
//!
//! Program shape (every path ends in a `ret`):
//!   ld arch; jeq NATIVE -> native section, else -> [jeq OTHER -> its section]... ret bad_arch
//!   section: ld nr; a balanced binary search over the section's number *intervals*; each
//!            interval leads to one outcome: a `ret` or the argument checks of one syscall.
//! Intervals: the 32-bit syscall-number space of an audit arch is cut into maximal runs that
//! share an outcome (numbers the profile does not name get the default action; neighbours that
//! are all allowed become one run), so a lookup costs ceil(log2(runs)) comparisons - no scan.
//! x86_64 and x32 share AUDIT_ARCH_X86_64: x32 numbers carry bit 30, so they are simply the
//! upper part of the same number space; a half whose ABI is not in the filter gets bad_arch,
//! as libseccomp does.
//!
//! Semantics chosen to match runc + libseccomp:
//!   - a rule whose action equals the default action is dropped (runc skips it);
//!   - for one syscall, an unconditional rule wins over conditional ones (libseccomp replaces
//!     the argument tree), the first unconditional one if several;
//!   - otherwise its conditional rules are tried in profile order, the first whose conditions
//!     all hold (AND) gives the action; none -> the default action;
//!   - arguments are compared as unsigned 64-bit values, high half then low half; on 32-bit
//!     ABIs (x86, x32, arm) only the low half, with the value truncated (libseccomp's
//!     ARCH_SIZE_32); MASKED_EQ is (arg & value) == (value_two & value);
//!   - optional -ENOSYS stub (runc's patchbpf): numbers above the highest syscall the profile
//!     names for an ABI return ENOSYS, so new syscalls fall back cleanly in libc.
const std = @import("std");
const tables = @import("tables.zig");
const emit = @import("emit.zig");
const input = @import("input.zig");
const analyze = @import("analyze.zig");
const cond = @import("cond.zig");

const Arch = tables.Arch;
const Target = emit.Target;
const Input = input.Input;

pub const report_unknown_max = 256;
pub const Insn = emit.Insn;

/// What the caller learns besides the program (shared with src/ffi.ts; all u32).
pub const Report = extern struct {
    insn_count: u32,
    /// Most instructions any syscall can run through (argument checks included).
    longest_path: u32,
    /// Most instructions a syscall without argument rules runs through (arch + number lookup).
    plain_longest_path: u32,
    /// The rule a BadInput error is about, or 0xffffffff.
    error_rule: u32,
    /// Rules whose name no architecture of the filter knows (skipped, like runc).
    unknown_count: u32,
    unknown: [report_unknown_max]u32,
};

pub const Error = error{ BadInput, OutOfMemory, ProgramTooLarge };

/// struct seccomp_data offsets (include/uapi/linux/seccomp.h); args are little-endian u64.
const off_nr: u32 = 0;
const off_arch: u32 = 4;
fn offArgLo(index: u8) u32 {
    return 16 + 8 * @as(u32, index);
}

const no_nr: u32 = std.math.maxInt(u32);
const ret_enosys: u32 = 0x0005_0000 | @as(u32, @intFromEnum(std.os.linux.E.NOSYS));

const Entry = struct { nr: u32, rule: u32 };

const Interval = struct {
    start: u32,
    ret: ?u32,
    /// The syscall's entries (sorted by rule) when its outcome is argument checks.
    entries: []const Entry = &.{},
    /// The ABI of `entries` (argument width).
    arch: Arch = .x86_64,
    label: u32 = 0,
};

/// One audit arch: x86_64 covers the x86_64 ABI below bit 30 and x32 from bit 30 up.
const Group = struct {
    audit: u32,
    parts: [2]?Part,
};
const Part = struct { arch: ?Arch, lo: u32, hi: u32 };

const Compiler = struct {
    in: Input,
    alloc: std.mem.Allocator,
    e: emit.Emitter,
    nrs: [tables.arch_count][]u32,
    block_labels: std.ArrayListUnmanaged(u32) = .{},

    fn has(self: *const Compiler, arch: Arch) bool {
        return self.in.header.arch_mask & tables.archBit(arch) != 0;
    }

    fn defaultAction(self: *const Compiler) u32 {
        return self.in.header.default_action;
    }
};

pub fn compile(bytes: []const u8, out: []emit.Insn, scratch: []u8, report: *Report) Error![]emit.Insn {
    report.* = std.mem.zeroes(Report);
    var fba = std.heap.FixedBufferAllocator.init(scratch);
    const alloc = fba.allocator();
    const in = try input.parse(bytes, alloc, &report.error_rule);
    var c = Compiler{ .in = in, .alloc = alloc, .e = emit.Emitter.init(out), .nrs = undefined };
    try resolveNames(&c, report);
    try emitProgram(&c);
    const prog = c.e.finish();
    const paths = try analyze.longestPaths(prog, c.block_labels.items, alloc);
    report.insn_count = @intCast(prog.len);
    report.longest_path = paths.all;
    report.plain_longest_path = paths.plain;
    return prog;
}

fn resolveNames(c: *Compiler, report: *Report) Error!void {
    const n = c.in.header.rule_count;
    for (&c.nrs, 0..) |*nrs, a| {
        nrs.* = if (c.has(@enumFromInt(a))) try c.alloc.alloc(u32, n) else &.{};
        for (nrs.*, 0..) |*nr, r| nr.* = tables.lookup(@enumFromInt(a), c.in.name(@intCast(r))) orelse no_nr;
    }
    var r: u32 = 0;
    while (r < n) : (r += 1) {
        const known = for (c.nrs) |nrs| {
            if (nrs.len > 0 and nrs[r] != no_nr) break true;
        } else false;
        if (known) continue;
        if (report.unknown_count < report_unknown_max) report.unknown[report.unknown_count] = r;
        report.unknown_count += 1;
    }
}

fn groupOf(c: *const Compiler, arch: Arch) ?Group {
    const all = Part{ .arch = arch, .lo = 0, .hi = std.math.maxInt(u32) };
    return switch (arch) {
        .x86_64, .x32 => if (!c.has(.x86_64) and !c.has(.x32)) null else .{
            .audit = tables.auditArch(.x86_64),
            .parts = .{
                .{ .arch = if (c.has(.x86_64)) .x86_64 else null, .lo = 0, .hi = tables.x32_syscall_bit - 1 },
                .{ .arch = if (c.has(.x32)) .x32 else null, .lo = tables.x32_syscall_bit, .hi = std.math.maxInt(u32) },
            },
        },
        else => if (!c.has(arch)) null else .{ .audit = tables.auditArch(arch), .parts = .{ all, null } },
    };
}

/// Back to front: the other arches' sections, their dispatch chain, the native section, the
/// native check, the arch load.
fn emitProgram(c: *Compiler) Error!void {
    const native = groupOf(c, c.in.header.native_arch).?;
    var others: [tables.arch_count]Group = undefined;
    var n_others: usize = 0;
    for ([_]Arch{ .x86_64, .x86, .aarch64, .arm }) |arch| {
        const g = groupOf(c, arch) orelse continue;
        if (g.audit == native.audit) continue;
        others[n_others] = g;
        n_others += 1;
    }
    var labels: [tables.arch_count]u32 = undefined;
    var i = n_others;
    while (i > 0) : (i -= 1) labels[i - 1] = try emitGroup(c, others[i - 1]);
    var next: Target = .{ .ret = c.in.header.bad_arch_action };
    i = n_others;
    while (i > 0) : (i -= 1) {
        next = .{ .label = try c.e.jump(emit.op.jeq_k, others[i - 1].audit, .{ .label = labels[i - 1] }, next) };
    }
    const native_label = try emitGroup(c, native);
    _ = try c.e.jump(emit.op.jeq_k, native.audit, .{ .label = native_label }, next);
    _ = try c.e.stmt(emit.op.ld_abs_w, off_arch);
}

fn emitGroup(c: *Compiler, g: Group) Error!u32 {
    var intervals: std.ArrayListUnmanaged(Interval) = .{};
    for (g.parts) |maybe_part| {
        const part = maybe_part orelse continue;
        if (part.arch) |arch| {
            try addArchIntervals(c, &intervals, arch, part);
        } else {
            try push(c, &intervals, .{ .start = part.lo, .ret = c.in.header.bad_arch_action });
        }
    }
    for (intervals.items) |*iv| {
        if (iv.ret != null) continue;
        iv.label = try emitArgChecks(c, iv.entries, tables.argsAre32Bit(iv.arch));
        try c.block_labels.append(c.alloc, iv.label);
    }
    const root = try emitSearch(c, intervals.items);
    _ = try c.e.goto(root);
    return c.e.stmt(emit.op.ld_abs_w, off_nr);
}

fn lessEntry(_: void, a: Entry, b: Entry) bool {
    return a.nr < b.nr or (a.nr == b.nr and a.rule < b.rule);
}

fn push(c: *Compiler, list: *std.ArrayListUnmanaged(Interval), iv: Interval) Error!void {
    if (list.items.len > 0) {
        const last = list.items[list.items.len - 1];
        std.debug.assert(last.start < iv.start);
        if (last.ret != null and iv.ret != null and last.ret.? == iv.ret.?) return;
    }
    try list.append(c.alloc, iv);
}

fn addArchIntervals(c: *Compiler, list: *std.ArrayListUnmanaged(Interval), arch: Arch, part: Part) Error!void {
    const nrs = c.nrs[@intFromEnum(arch)];
    var count: usize = 0;
    for (nrs) |nr| count += @intFromBool(nr != no_nr);
    const entries = try c.alloc.alloc(Entry, count);
    var j: usize = 0;
    for (nrs, 0..) |nr, r| {
        if (nr == no_nr) continue;
        std.debug.assert(nr >= part.lo and nr <= part.hi);
        entries[j] = .{ .nr = nr, .rule = @intCast(r) };
        j += 1;
    }
    std.sort.pdq(Entry, entries, {}, lessEntry);
    const default = c.defaultAction();
    var cursor: u64 = part.lo;
    var i: usize = 0;
    while (i < entries.len) {
        const nr = entries[i].nr;
        var end = i;
        while (end < entries.len and entries[end].nr == nr) end += 1;
        if (nr > cursor) try push(c, list, .{ .start = @intCast(cursor), .ret = default });
        var iv = outcome(c, entries[i..end]);
        iv.arch = arch;
        try push(c, list, iv);
        cursor = @as(u64, nr) + 1;
        i = end;
    }
    if (cursor <= part.hi) {
        const stub = c.in.header.options & input.option_enosys_stub != 0 and entries.len > 0;
        try push(c, list, .{ .start = @intCast(cursor), .ret = if (stub) ret_enosys else default });
    }
}

/// One syscall's rules (sorted by profile order) -> its outcome.
fn outcome(c: *const Compiler, entries: []const Entry) Interval {
    const default = c.defaultAction();
    var conditional = false;
    for (entries) |en| {
        const action = c.in.action(en.rule);
        if (action == default) continue;
        if (c.in.argCount(en.rule) == 0) return .{ .start = en.nr, .ret = action };
        conditional = true;
    }
    if (!conditional) return .{ .start = entries[0].nr, .ret = default };
    return .{ .start = entries[0].nr, .ret = null, .entries = entries };
}

fn emitSearch(c: *Compiler, ivs: []const Interval) Error!Target {
    std.debug.assert(ivs.len > 0);
    if (ivs.len == 1) {
        if (ivs[0].ret) |k| return .{ .ret = k };
        return .{ .label = ivs[0].label };
    }
    const mid = (ivs.len + 1) / 2;
    const right = try emitSearch(c, ivs[mid..]);
    const left = try emitSearch(c, ivs[0..mid]);
    return .{ .label = try c.e.jump(emit.op.jge_k, ivs[mid].start, right, left) };
}

/// The conditional rules of one syscall, first match wins, else the default action.
fn emitArgChecks(c: *Compiler, entries: []const Entry, args32: bool) Error!u32 {
    const default = c.defaultAction();
    var next: Target = .{ .ret = default };
    var i = entries.len;
    while (i > 0) : (i -= 1) {
        const rule = entries[i - 1].rule;
        const action = c.in.action(rule);
        if (action == default) continue;
        std.debug.assert(c.in.argCount(rule) > 0);
        var t: Target = .{ .ret = action };
        var a = c.in.argCount(rule);
        while (a > 0) : (a -= 1) t = try emitCond(c, c.in.arg(rule, a - 1), args32, t, next);
        next = t;
    }
    return switch (next) {
        .label => |l| l,
        .ret => |k| try c.e.goto(.{ .ret = k }),
    };
}

fn emitCond(c: *Compiler, arg: input.Arg, args32: bool, pass: Target, fail: Target) Error!Target {
    return cond.emitCond(&c.e, arg, offArgLo(arg.index), args32, pass, fail);
}
