// Builds bunrunc's Zig side (Zig 0.14.1, pinned by scripts/setup.sh):
//   zig-out/lib/libbunrunc.so   the FFI library Bun loads (zig/lib.zig holds every export)
//   zig-out/bin/bunrunc-init    the static, libc-free container init; also embedded in the
//                               library, which seals it into a memfd and execs it for every
//                               container and exec process (the host binary never runs inside)
//   zig-out/bin/bunrunc-probe   a static helper the tests copy into rootfs to report what a
//                               container process sees
//   zig-out/bin/bunrunc         the front engines exec (zig/front.zig): static, no libc; it
//                               forwards each call to the resident server (bunrunc-core with
//                               BUNRUNC_SERVE) or execs bunrunc-core, and clones the init itself
const std = @import("std");

pub fn build(b: *std.Build) void {
    comptime {
        const required = std.SemanticVersion{ .major = 0, .minor = 14, .patch = 1 };
        if (@import("builtin").zig_version.order(required) != .eq) @compileError("bunrunc pins Zig 0.14.1");
    }
    const target = b.standardTargetOptions(.{ .default_target = .{ .os_tag = .linux, .cpu_model = .baseline } });
    const optimize = b.standardOptimizeOption(.{});

    // plan.zig and sys.zig are shared by the library and the init, as modules of both.
    const plan_mod = b.createModule(.{ .root_source_file = b.path("zig/plan.zig"), .target = target, .optimize = optimize });
    const sys_mod = b.createModule(.{ .root_source_file = b.path("zig/sys.zig"), .target = target, .optimize = optimize });

    const init = staticExecutable(b, "bunrunc-init", "zig/init/main.zig", target, optimize);
    init.root_module.addImport("plan", plan_mod);
    init.root_module.addImport("sys", sys_mod);
    // No PT_GNU_STACK size: Zig's start code would raise RLIMIT_STACK to it (16 MiB), and the
    // container would inherit that instead of the caller's limit (runc's containers inherit it).
    init.stack_size = 0;
    b.installArtifact(init);

    const lib = b.addSharedLibrary(.{
        .name = "bunrunc",
        .root_source_file = b.path("zig/lib.zig"),
        .target = target,
        .optimize = optimize,
        .strip = optimize != .Debug,
    });
    addSpawnImports(lib, init, plan_mod, sys_mod);
    b.installArtifact(lib);

    const probe = staticExecutable(b, "bunrunc-probe", "zig/probe/main.zig", target, optimize);
    b.installArtifact(probe);

    // The front clones the container's init itself (zig/spawn.zig), so it gets the init and the
    // shared modules exactly as the library does.
    const front = staticExecutable(b, "bunrunc", "zig/front.zig", target, optimize);
    // No PT_GNU_STACK size: Zig's start code would otherwise raise RLIMIT_STACK to 16 MiB, and
    // bunrunc-core, the server and the container (cloned here) would inherit the raised limit.
    front.stack_size = 0;
    addSpawnImports(front, init, plan_mod, sys_mod);
    b.installArtifact(front);

    const unit = b.addTest(.{ .root_source_file = b.path("zig/tests.zig"), .target = target, .optimize = .Debug });
    addSpawnImports(unit, init, plan_mod, sys_mod);
    const run_unit = b.addRunArtifact(unit);
    b.step("test", "Run the Zig unit tests").dependOn(&run_unit.step);
}

/// A static, single-threaded executable, stripped unless Debug.
fn staticExecutable(b: *std.Build, name: []const u8, root: []const u8, target: std.Build.ResolvedTarget, optimize: std.builtin.OptimizeMode) *std.Build.Step.Compile {
    return b.addExecutable(.{
        .name = name,
        .root_source_file = b.path(root),
        .target = target,
        .optimize = optimize,
        .single_threaded = true,
        .strip = optimize != .Debug,
    });
}

/// What code that spawns (zig/spawn.zig) imports: the shared plan and sys modules, and the init
/// ELF it seals into a memfd.
fn addSpawnImports(c: *std.Build.Step.Compile, init: *std.Build.Step.Compile, plan_mod: *std.Build.Module, sys_mod: *std.Build.Module) void {
    c.root_module.addAnonymousImport("init_elf", .{ .root_source_file = init.getEmittedBin() });
    c.root_module.addImport("plan", plan_mod);
    c.root_module.addImport("sys", sys_mod);
}
