//! One argument condition of a rule as BPF: `pass` when it holds, else `fail`.
//!
//! 64-bit values are compared as two 32-bit halves, high half first:
//!   EQ  hi == vhi && lo == vlo            NE  !(EQ)
//!   GT  hi > vhi || (hi == vhi && lo > vlo)   GE, LT, LE alike
//!   MASKED_EQ  (hi & mhi) == dhi && (lo & mlo) == dlo, d = value_two & value
//! On 32-bit ABIs only the low half is checked. Conditions that always or never hold emit no code.
const std = @import("std");
const emit = @import("emit.zig");
const input = @import("input.zig");

const Target = emit.Target;
const op = emit.op;

pub fn emitCond(e: *emit.Emitter, arg: input.Arg, off_lo: u32, args32: bool, pass: Target, fail: Target) emit.Error!Target {
    const width_max: u64 = if (args32) std.math.maxInt(u32) else std.math.maxInt(u64);
    const value = arg.value & width_max;
    switch (arg.op) {
        .ge => if (value == 0) return pass,
        .lt => if (value == 0) return fail,
        .le => if (value == width_max) return pass,
        .gt => if (value == width_max) return fail,
        else => {},
    }
    if (arg.op == .masked_eq) return masked(e, value, arg.value_two & value, off_lo, args32, pass, fail);
    const vlo: u32 = @truncate(value);
    const vhi: u32 = @truncate(value >> 32);
    const low = try lowHalf(e, arg.op, vlo, off_lo, pass, fail);
    if (args32) return low;
    return highHalf(e, arg.op, vhi, off_lo + 4, low, pass, fail);
}

/// The low-half comparison, reached when the high half left the answer open.
fn lowHalf(e: *emit.Emitter, o: input.Op, v: u32, off: u32, pass: Target, fail: Target) emit.Error!Target {
    switch (o) {
        .ge => if (v == 0) return pass,
        .lt => if (v == 0) return fail,
        else => {},
    }
    _ = switch (o) {
        .eq => try e.jump(op.jeq_k, v, pass, fail),
        .ne => try e.jump(op.jeq_k, v, fail, pass),
        .gt => try e.jump(op.jgt_k, v, pass, fail),
        .ge => try e.jump(op.jge_k, v, pass, fail),
        .lt => try e.jump(op.jge_k, v, fail, pass),
        .le => try e.jump(op.jgt_k, v, fail, pass),
        .masked_eq => unreachable,
    };
    return .{ .label = try e.stmt(op.ld_abs_w, off) };
}

/// The high-half comparison: decides when the halves differ, else continues at `low`.
fn highHalf(e: *emit.Emitter, o: input.Op, v: u32, off: u32, low: Target, pass: Target, fail: Target) emit.Error!Target {
    switch (o) {
        .eq => _ = try e.jump(op.jeq_k, v, low, fail),
        .ne => _ = try e.jump(op.jeq_k, v, low, pass),
        .gt, .ge => if (v == 0) {
            _ = try e.jump(op.jgt_k, 0, pass, low);
        } else {
            const same = try e.jump(op.jeq_k, v, low, fail);
            _ = try e.jump(op.jgt_k, v, pass, .{ .label = same });
        },
        .lt, .le => if (v == 0) {
            _ = try e.jump(op.jgt_k, 0, fail, low);
        } else {
            const same = try e.jump(op.jeq_k, v, low, pass);
            _ = try e.jump(op.jgt_k, v, fail, .{ .label = same });
        },
        .masked_eq => unreachable,
    }
    return .{ .label = try e.stmt(op.ld_abs_w, off) };
}

fn masked(e: *emit.Emitter, mask: u64, datum: u64, off_lo: u32, args32: bool, pass: Target, fail: Target) emit.Error!Target {
    var t = pass;
    const mlo: u32 = @truncate(mask);
    const mhi: u32 = @truncate(mask >> 32);
    if (mlo != 0) {
        _ = try e.jump(op.jeq_k, @truncate(datum), t, fail);
        _ = try e.stmt(op.and_k, mlo);
        t = .{ .label = try e.stmt(op.ld_abs_w, off_lo) };
    }
    if (args32 or mhi == 0) return t;
    _ = try e.jump(op.jeq_k, @truncate(datum >> 32), t, fail);
    _ = try e.stmt(op.and_k, mhi);
    return .{ .label = try e.stmt(op.ld_abs_w, off_lo + 4) };
}
