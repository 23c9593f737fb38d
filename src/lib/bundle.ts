// Reads a bundle's config.json for the lifecycle: parsed losslessly and validated in full by
// src/config (runtime-spec 1.3 schemas + the spec's MUST rules + what create needs).
import { resolve } from "node:path";
import { loadBundleConfig } from "../config/load.ts";
import type { Spec } from "../config/types.ts";

export function loadSpec(bundle: string): Spec {
  return loadBundleConfig(bundle);
}

export function rootfsOf(bundle: string, spec: Spec): string {
  return resolve(bundle, spec.root!.path);
}
