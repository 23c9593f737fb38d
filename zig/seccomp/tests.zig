//! Zig unit tests of the seccomp compiler (`zig build test`). The behavioural tests - a BPF
//! interpreter running compiled profiles - are in test/seccomp/ (TypeScript).
test {
    _ = @import("tables.zig");
    _ = @import("emit.zig");
    _ = @import("compile_test.zig");
    _ = @import("probe.zig");
}
