//! runc's argv for the four verbs the front may run itself (zig/front_verbs.zig): `start <id>`,
//! `state <id>`, `delete [-f|--force] <id>`, `kill <id> [signal]`, after runc's global flags.
//! Go's `flag` rules as src/cli/goflag.ts and parse.ts apply them: `-x` == `--x`, `--x=v` and
//! `--x v`, a bool never takes the next word (`--x=false`), flags end at the first non-flag word;
//! a verb's flags may come between its positionals. Anything this does not fully understand —
//! an unknown flag, `--`, --debug, --help, --version, kill --all, a bad id or signal, a wrong
//! count of arguments — is null: the call goes to bunrunc-core, which parses it again and says
//! what is wrong in its own words. No allocation; every slice points into argv.
const std = @import("std");

pub const Verb = enum { start, state, delete, kill };

pub const Call = struct {
    verb: Verb,
    id: []const u8,
    /// --root as given (null or "": the default root, front_verbs.zig).
    root: ?[]const u8 = null,
    /// --log ("" or null: stderr).
    log: ?[]const u8 = null,
    force: bool = false,
    /// kill's signal (SIGTERM when not given).
    signal: u8 = 15,
};

/// runc's ids are at most a file name.
pub const id_len_max = 255;
/// argv words looked at, at most (a longer argv goes to bunrunc-core).
const words_max = 64;

const GlobalFlag = enum { debug, log, log_format, root, criu, systemd_cgroup, rootless, help, version };

const global_names = [_]struct { []const u8, GlobalFlag }{
    .{ "debug", .debug },                   .{ "log", .log },           .{ "log-format", .log_format },
    .{ "root", .root },                     .{ "criu", .criu },         .{ "systemd-cgroup", .systemd_cgroup },
    .{ "rootless", .rootless },             .{ "help", .help },         .{ "h", .help },
    .{ "version", .version },               .{ "v", .version },
};

fn isBoolFlag(f: GlobalFlag) bool {
    return switch (f) {
        .debug, .systemd_cgroup, .help, .version => true,
        else => false,
    };
}

/// strconv.ParseBool; null when not one of its words.
pub fn parseBool(s: []const u8) ?bool {
    const yes = [_][]const u8{ "1", "t", "T", "TRUE", "true", "True" };
    const no = [_][]const u8{ "0", "f", "F", "FALSE", "false", "False" };
    for (yes) |w| if (std.mem.eql(u8, s, w)) return true;
    for (no) |w| if (std.mem.eql(u8, s, w)) return false;
    return null;
}

fn isRootlessWord(s: []const u8) bool {
    return std.mem.eql(u8, s, "true") or std.mem.eql(u8, s, "false") or std.mem.eql(u8, s, "auto");
}

/// One flag word split as Go's FlagSet does: its name and its `=value`, if any. null: not a flag
/// (flags end), or `--`, or bad syntax (both go to bunrunc-core).
const FlagWord = struct { name: []const u8, value: ?[]const u8 };

fn flagWord(word: []const u8) union(enum) { positional, flag: FlagWord, odd } {
    if (word.len < 2 or word[0] != '-') return .positional;
    const dashes: usize = if (word[1] == '-') 2 else 1;
    if (dashes == 2 and word.len == 2) return .odd; // `--`
    var name = word[dashes..];
    if (name.len == 0 or name[0] == '-' or name[0] == '=') return .odd;
    var value: ?[]const u8 = null;
    if (std.mem.indexOfScalarPos(u8, name, 1, '=')) |eq| {
        value = name[eq + 1 ..];
        name = name[0..eq];
    }
    return .{ .flag = .{ .name = name, .value = value } };
}

/// The call argv asks for (without argv[0]), or null (bunrunc-core's to run).
pub fn parse(args: []const [*:0]const u8) ?Call {
    if (args.len > words_max) return null;
    var root: ?[]const u8 = null;
    var log: ?[]const u8 = null;
    var i: usize = 0;
    while (i < args.len) {
        const word = std.mem.span(args[i]);
        const f = switch (flagWord(word)) {
            .positional => break,
            .odd => return null,
            .flag => |f| f,
        };
        i += 1;
        const flag = lookup(f.name) orelse return null;
        var value = f.value;
        if (isBoolFlag(flag)) {
            const on = if (value) |v| parseBool(v) orelse return null else true;
            // --debug logs what a call does; --help and --version print other things.
            if (on and flag != .systemd_cgroup) return null;
            continue;
        }
        if (value == null) {
            // src/cli/parse.ts bareRootless: a bare --rootless means true unless its word follows.
            if (flag == .rootless and !(i < args.len and isRootlessWord(std.mem.span(args[i])))) continue;
            if (i >= args.len) return null;
            value = std.mem.span(args[i]);
            i += 1;
        }
        const v = value.?;
        switch (flag) {
            .log => log = v,
            .root => root = v,
            .log_format => if (!std.mem.eql(u8, v, "text") and !std.mem.eql(u8, v, "json")) return null,
            .rootless => if (!isRootlessWord(v)) return null,
            else => {},
        }
    }
    if (i >= args.len) return null;
    const verb = std.meta.stringToEnum(Verb, std.mem.span(args[i])) orelse return null;
    var call = Call{ .verb = verb, .id = "", .root = root, .log = log };
    var positionals: [2][]const u8 = undefined;
    var n: usize = 0;
    for (args[i + 1 ..]) |arg| {
        const word = std.mem.span(arg);
        switch (flagWord(word)) {
            .odd => return null,
            .positional => {
                if (n == positionals.len) return null;
                positionals[n] = word;
                n += 1;
            },
            .flag => |f| if (!verbFlag(&call, f)) return null,
        }
    }
    const max: usize = if (verb == .kill) 2 else 1;
    if (n == 0 or n > max) return null;
    if (!validId(positionals[0])) return null;
    call.id = positionals[0];
    if (n == 2) call.signal = parseSignal(positionals[1]) orelse return null;
    return call;
}

fn lookup(name: []const u8) ?GlobalFlag {
    for (global_names) |entry| if (std.mem.eql(u8, entry[0], name)) return entry[1];
    return null;
}

/// A verb's own flags: every one is a bool. delete's --force is kept; kill --all, --help (or
/// anything else) goes to bunrunc-core.
fn verbFlag(call: *Call, f: FlagWord) bool {
    const on = if (f.value) |v| parseBool(v) orelse return false else true;
    const is = struct {
        fn is(name: []const u8, long: []const u8, short: []const u8) bool {
            return std.mem.eql(u8, name, long) or std.mem.eql(u8, name, short);
        }
    }.is;
    if (call.verb == .delete and is(f.name, "force", "f")) {
        call.force = on;
        return true;
    }
    if (call.verb == .kill and is(f.name, "all", "a")) return !on;
    if (is(f.name, "help", "h")) return !on;
    return false;
}

/// runc's id rule (src/state/store.ts validateId): [A-Za-z0-9_+.-]+, never `.` or `..`.
pub fn validId(id: []const u8) bool {
    if (id.len == 0 or id.len > id_len_max) return false;
    if (std.mem.eql(u8, id, ".") or std.mem.eql(u8, id, "..")) return false;
    for (id) |c| {
        const ok = std.ascii.isAlphanumeric(c) or c == '_' or c == '+' or c == '.' or c == '-';
        if (!ok) return false;
    }
    return true;
}

const names = [_]struct { []const u8, u8 }{
    .{ "HUP", 1 },     .{ "INT", 2 },    .{ "QUIT", 3 },   .{ "ILL", 4 },     .{ "TRAP", 5 },    .{ "ABRT", 6 },
    .{ "IOT", 6 },     .{ "BUS", 7 },    .{ "FPE", 8 },    .{ "KILL", 9 },    .{ "USR1", 10 },   .{ "SEGV", 11 },
    .{ "USR2", 12 },   .{ "PIPE", 13 },  .{ "ALRM", 14 },  .{ "TERM", 15 },   .{ "STKFLT", 16 }, .{ "CHLD", 17 },
    .{ "CLD", 17 },    .{ "CONT", 18 },  .{ "STOP", 19 },  .{ "TSTP", 20 },   .{ "TTIN", 21 },   .{ "TTOU", 22 },
    .{ "URG", 23 },    .{ "XCPU", 24 },  .{ "XFSZ", 25 },  .{ "VTALRM", 26 }, .{ "PROF", 27 },   .{ "WINCH", 28 },
    .{ "IO", 29 },     .{ "POLL", 29 },  .{ "PWR", 30 },   .{ "SYS", 31 },
};
const sigrtmin = 34;
const sigrtmax = 64;

/// src/lib/signals.ts parseSignal: "9", "KILL", "SIGKILL", "sigkill", "RTMIN+3", "RTMAX-1".
pub fn parseSignal(text: []const u8) ?u8 {
    if (text.len == 0 or text.len > 16) return null;
    if (std.ascii.isDigit(text[0])) {
        for (text) |c| if (!std.ascii.isDigit(c)) return null;
        const n = std.fmt.parseInt(u32, text, 10) catch return null;
        return if (n >= 1 and n <= sigrtmax) @intCast(n) else null;
    }
    var upper_buf: [16]u8 = undefined;
    var name = std.ascii.upperString(&upper_buf, text);
    if (std.mem.startsWith(u8, name, "SIG")) name = name[3..];
    for (names) |entry| if (std.mem.eql(u8, entry[0], name)) return entry[1];
    const rt = rtSignal(name) orelse return null;
    return if (rt >= sigrtmin and rt <= sigrtmax) @intCast(rt) else null;
}

/// RTMIN, RTMIN+n, RTMAX, RTMAX-n (n decimal digits).
fn rtSignal(name: []const u8) ?u32 {
    const plus = std.mem.startsWith(u8, name, "RTMIN");
    if (!plus and !std.mem.startsWith(u8, name, "RTMAX")) return null;
    const rest = name[5..];
    const base: u32 = if (plus) sigrtmin else sigrtmax;
    if (rest.len == 0) return base;
    if (rest[0] != (if (plus) @as(u8, '+') else '-') or rest.len == 1) return null;
    for (rest[1..]) |c| if (!std.ascii.isDigit(c)) return null;
    const n = std.fmt.parseInt(u32, rest[1..], 10) catch return null;
    if (plus) return std.math.add(u32, base, n) catch null;
    return if (n > base) null else base - n;
}

const testing = std.testing;

fn p(comptime words: anytype) ?Call {
    var argv: [words.len][*:0]const u8 = undefined;
    inline for (words, 0..) |w, k| argv[k] = w;
    return parse(&argv);
}

test "goflag: the four verbs with runc's global flags" {
    const a = p(.{ "--root", "/run/x", "start", "c1" }).?;
    try testing.expectEqual(Verb.start, a.verb);
    try testing.expectEqualStrings("c1", a.id);
    try testing.expectEqualStrings("/run/x", a.root.?);
    const b = p(.{ "-root=/r", "-log", "/l", "--log-format=json", "--systemd-cgroup", "delete", "--force", "c" }).?;
    try testing.expect(b.force and b.verb == .delete);
    try testing.expectEqualStrings("/r", b.root.?);
    try testing.expectEqualStrings("/l", b.log.?);
    try testing.expect(p(.{ "delete", "c", "-f=false" }).?.force == false);
    try testing.expect(p(.{ "delete", "c", "-f" }).?.force);
    try testing.expectEqual(@as(u8, 9), p(.{ "kill", "c", "KILL" }).?.signal);
    try testing.expectEqual(@as(u8, 15), p(.{ "kill", "c" }).?.signal);
    try testing.expectEqual(@as(u8, 15), p(.{ "kill", "--all=false", "c" }).?.signal);
    try testing.expectEqual(Verb.state, p(.{ "--debug=false", "--rootless", "state", "c" }).?.verb);
    try testing.expectEqualStrings("/r", p(.{ "--rootless", "auto", "--root", "/r", "state", "c" }).?.root.?);
    try testing.expectEqualStrings("c", p(.{ "--rootless", "state", "c" }).?.id);
}

test "goflag: anything odd goes to bunrunc-core" {
    const odd = .{
        .{"start"},                                 .{ "start", "a", "b" },            .{ "--debug", "start", "c" },
        .{ "--help", "state", "c" },                .{ "-v", "state", "c" },           .{ "--", "start", "c" },
        .{ "start", "--", "c" },                    .{ "--nope", "start", "c" },       .{ "start", "--nope", "c" },
        .{ "kill", "-a", "c" },                     .{ "kill", "c", "NOSUCH" },        .{ "kill", "c", "9", "x" },
        .{ "kill", "c", "0" },                      .{ "kill", "c", "65" },            .{ "start", "a/b" },
        .{ "start", ".." },                         .{ "state", "-h", "c" },           .{ "--log-format", "xml", "start", "c" },
        .{ "--rootless=maybe", "start", "c" },      .{ "--root" },                     .{ "run", "c" },
        .{ "---root", "/r", "start", "c" },         .{ "--debug=maybe", "start", "c" }, .{ "delete", "-f=yes", "c" },
        .{ "create", "c" },                         .{ "start", "" },                  .{ "-=x", "start", "c" },
    };
    inline for (odd) |words| {
        if (p(words) != null) {
            std.debug.print("parsed, but should not: {any}\n", .{words});
            return error.TestUnexpectedResult;
        }
    }
}

test "goflag: runc's signal names and numbers" {
    try testing.expectEqual(@as(?u8, 9), parseSignal("SIGKILL"));
    try testing.expectEqual(@as(?u8, 9), parseSignal("sigkill"));
    try testing.expectEqual(@as(?u8, 1), parseSignal("hup"));
    try testing.expectEqual(@as(?u8, 64), parseSignal("64"));
    try testing.expectEqual(@as(?u8, 34), parseSignal("RTMIN"));
    try testing.expectEqual(@as(?u8, 37), parseSignal("SIGRTMIN+3"));
    try testing.expectEqual(@as(?u8, 63), parseSignal("RTMAX-1"));
    try testing.expectEqual(@as(?u8, null), parseSignal("RTMIN+31"));
    try testing.expectEqual(@as(?u8, null), parseSignal("RTMAX-31"));
    try testing.expectEqual(@as(?u8, null), parseSignal("-9"));
    try testing.expectEqual(@as(?u8, null), parseSignal("9x"));
    try testing.expectEqual(@as(?u8, null), parseSignal("99999999999999999"));
}
