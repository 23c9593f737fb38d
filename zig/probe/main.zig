//! bunrunc-probe: runs inside test containers and reports what it sees. Placeholder.
const std = @import("std");
pub fn main() u8 {
    return 0;
}
