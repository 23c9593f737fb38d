// The Zig unit tests (`bash scripts/zig.sh build test`; test/zig/unit.test.ts runs them in CI).
test {
    _ = @import("lib.zig");
    _ = @import("plan_test.zig");
    _ = @import("front_records.zig");
    _ = @import("front_record.zig");
    _ = @import("goflag.zig");
    _ = @import("ipc_test.zig");
    _ = @import("init/dispatch_test.zig");
}
