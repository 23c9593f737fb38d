test {
    _ = @import("lib.zig");
}
