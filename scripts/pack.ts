// `bun run pack`: the Bun API as a package. Writes dist/bunrunc-<version>.tgz (bun pm pack), which
// `bun add <tarball>` installs as "bunrunc": `import { create, start, run, exec, ... } from
// "bunrunc"` with the TypeScript sources as its types, and a `bunrunc` command (bin/bunrunc.ts).
//
// What the tarball carries, and why:
//   src/                         the library and CLI, as TypeScript (Bun runs it; it is the types)
//   zig-out/lib/libbunrunc.so    the Zig core, prebuilt for linux-x64 (src/ffi.ts loads it relative
//                                to itself, so from the package, not from this repo). The container
//                                init is embedded in it (zig/spawn.zig seals it into a memfd).
//   node_modules/{citty,consola,valibot}  bundled, not declared: `bun add` fetches declared
//                                dependencies from the registry even when bundled, and the package
//                                must install with no registry at all.
//   bin/bunrunc.ts, README.md, docs/api/, examples/
// Not carried: dist/bunrunc and dist/bunrunc-core (the static front and the 110 MB compiled core:
// scripts/install.sh installs those), and the test probe.
//
// Usage: bun run pack [--destination DIR]   (default dist/); prints the tarball's path.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "..");
const BUN = process.execPath;
export const BUNDLED = ["citty", "consola", "valibot"];

function run(argv: string[], cwd = REPO): string {
  const r = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    process.stderr.write(r.stdout.toString() + r.stderr.toString());
    throw new Error(`pack: ${argv.join(" ")} exited ${r.exitCode}`);
  }
  return r.stdout.toString();
}

/** The manifest the tarball carries: the repo's, as a library package (see the header). */
export function packageManifest(repo: Record<string, any>): Record<string, unknown> {
  for (const name of BUNDLED) if (!repo.dependencies?.[name]) throw new Error(`pack: ${name} is no longer a dependency; update BUNDLED`);
  const extra = Object.keys(repo.dependencies ?? {}).filter((d) => !BUNDLED.includes(d));
  if (extra.length) throw new Error(`pack: dependencies ${extra.join(", ")} are not bundled; add them to BUNDLED`);
  return {
    name: repo.name,
    version: repo.version,
    description: repo.description,
    type: "module",
    license: repo.license,
    os: ["linux"],
    cpu: ["x64"],
    exports: { ".": { types: "./src/lib/index.ts", default: "./src/lib/index.ts" } },
    types: "./src/lib/index.ts",
    bin: { bunrunc: "bin/bunrunc.ts" },
    files: ["src", "bin", "zig-out/lib/libbunrunc.so", "docs/api", "examples", "README.md"],
    bundleDependencies: BUNDLED,
  };
}

export function pack(destination = join(REPO, "dist")): string {
  // The shared library as the sources are now (a no-op when zig-out is current); without the
  // toolchain, the one already built.
  const lib = join(REPO, "zig-out/lib/libbunrunc.so");
  if (existsSync(join(REPO, ".toolchain/zig/ziglang/zig"))) run(["bash", "scripts/zig.sh", "build", "-Doptimize=ReleaseSmall"]);
  else if (!existsSync(lib)) throw new Error("pack: no zig-out/lib/libbunrunc.so and no Zig to build it: run scripts/setup.sh");
  const stage = join(REPO, "dist/pack/bunrunc");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, "zig-out/lib"), { recursive: true });
  for (const path of ["src", "bin", "README.md", "docs/api", "examples"]) {
    if (existsSync(join(REPO, path))) cpSync(join(REPO, path), join(stage, path), { recursive: true });
  }
  cpSync(lib, join(stage, "zig-out/lib/libbunrunc.so"));
  for (const name of BUNDLED) cpSync(join(REPO, "node_modules", name), join(stage, "node_modules", name), { recursive: true, dereference: true });
  const repo = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  writeFileSync(join(stage, "package.json"), JSON.stringify(packageManifest(repo), null, 2) + "\n");
  mkdirSync(destination, { recursive: true });
  const out = run([BUN, "pm", "pack", "--quiet", "--ignore-scripts", "--destination", resolve(destination)], stage).trim().split("\n").pop()!;
  rmSync(join(REPO, "dist/pack"), { recursive: true, force: true });
  return resolve(stage, out);
}

if (import.meta.main) {
  const at = process.argv.indexOf("--destination");
  console.log(pack(at > 0 ? process.argv[at + 1] : undefined));
}
