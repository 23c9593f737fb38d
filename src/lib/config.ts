// Reads a bundle's config.json for the lifecycle.
// NOTE: minimal stand-in for src/config/load.ts (loadBundleConfig, full valibot validation) until
// it lands: parse, and check only what create cannot do without.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BunruncError } from "./errors.ts";
import type { Spec } from "../plan/spec.ts";

export function loadSpec(bundle: string): Spec {
  const path = join(bundle, "config.json");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BunruncError("invalid-config", `${path}: ${code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
  }
  let spec: Spec;
  try {
    spec = JSON.parse(text) as Spec;
  } catch (e) {
    throw new BunruncError("invalid-config", `${path}: ${(e as Error).message}`);
  }
  if (typeof spec !== "object" || spec === null) throw new BunruncError("invalid-config", `${path}: not a JSON object`);
  if (typeof spec.ociVersion !== "string") throw new BunruncError("invalid-config", `${path}: ociVersion: required`);
  if (!spec.root?.path) throw new BunruncError("invalid-config", `${path}: root.path: required`);
  if (!spec.process) throw new BunruncError("invalid-config", `${path}: process: required`);
  return spec;
}

export function rootfsOf(bundle: string, spec: Spec): string {
  return resolve(bundle, spec.root!.path);
}
