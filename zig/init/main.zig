//! bunrunc-init: the in-container stage. Placeholder until the plan executor lands.
const std = @import("std");
const linux = std.os.linux;

pub fn main() u8 {
    _ = linux.write(2, "bunrunc-init: no plan executor yet\n", 35);
    return 1;
}
