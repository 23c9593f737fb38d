// `bunrunc --version`: runc's layout (name + version, commit, spec), with the Bun runtime in the
// place where runc names its Go toolchain.
import { spawnSync } from "node:child_process";
import { writeSync } from "node:fs";
import { dirname, join } from "node:path";
import pkg from "../../package.json" with { type: "json" };

/** The runtime-spec version bunrunc implements. */
export const SPEC_VERSION = "1.3.0";

// scripts/build.sh defines this (`bun build --define`) for the compiled executable.
declare const BUNRUNC_COMMIT: string | undefined;

/** The git commit: baked in at build time, else asked of the checkout we run from, else "unknown". */
export function commit(): string {
  if (typeof BUNRUNC_COMMIT === "string" && BUNRUNC_COMMIT) return BUNRUNC_COMMIT;
  const repo = join(dirname(Bun.main), "..");
  const r = spawnSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const sha = r.status === 0 ? r.stdout.trim() : "";
  return /^[0-9a-f]{40}$/.test(sha) ? sha : "unknown";
}

export function versionText(): string {
  return [`bunrunc version ${pkg.version}`, `commit: ${commit()}`, `spec: ${SPEC_VERSION}`, `bun: ${Bun.version}`].join("\n") + "\n";
}

export default function printVersion(): void {
  writeSync(1, versionText());
}
