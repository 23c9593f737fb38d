// `bunrunc features`: the document's shape against runtime-spec features.md, its lists against the
// modules that own them, and the binary's output (what containerd's shim and podman read).
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { features, featuresJson, SUPPORT } from "../../src/lib/features.ts";
import { CAPABILITIES, NAMESPACE_FLAGS } from "../../src/plan/linux.ts";
import { parseMountOptions } from "../../src/plan/mount-options.ts";
import { REPO, run } from "./rig.ts";

describe("features document", () => {
  const f = features();

  test("OCI version range and the six hooks", () => {
    expect(f.ociVersionMin).toBe("1.0.0");
    expect(f.ociVersionMax).toBe("1.3.0");
    expect(f.hooks).toEqual(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
  });

  test("every listed mount option is recognized, idmap and ridmap included (idmapped mounts)", () => {
    expect(f.mountOptions.length).toBeGreaterThan(40);
    for (const o of f.mountOptions) expect(parseMountOptions([o]).data).toBe("");
    expect(f.mountOptions).toContain("idmap");
    expect(f.mountOptions).toContain("ridmap");
    expect((f.linux.mountExtensions as { idmap: { enabled: boolean } }).idmap.enabled).toBe(true);
  });

  test("linux.netDevices and linux.memoryPolicy (runtime-spec 1.3) are claimed, with every mode and flag", () => {
    expect((f.linux.netDevices as { enabled: boolean }).enabled).toBe(true);
    const mp = f.linux.memoryPolicy as { modes: string[]; flags: string[] };
    expect(mp.modes).toEqual(["MPOL_DEFAULT", "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"]);
    expect(mp.flags).toEqual(["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"]);
  });

  test("namespaces and capabilities come from the plan compiler's tables", () => {
    expect(f.linux.namespaces).toEqual(Object.keys(NAMESPACE_FLAGS));
    expect(f.linux.capabilities).toEqual([...CAPABILITIES]);
    expect(f.linux.capabilities as string[]).toContain("CAP_CHECKPOINT_RESTORE");
  });

  test("cgroup, seccomp, LSMs and RDT say only what works", () => {
    expect(Object.keys(f.linux.cgroup as object).sort()).toEqual(["rdma", "systemd", "systemdUser", "v1", "v2"]);
    const seccomp = f.linux.seccomp as Record<string, unknown>;
    expect(seccomp.enabled).toBe(SUPPORT.seccomp.enabled);
    if (!SUPPORT.seccomp.enabled) expect(Object.keys(seccomp)).toEqual(["enabled"]);
    else for (const k of ["actions", "operators", "archs", "knownFlags", "supportedFlags"]) expect((seccomp[k] as string[]).length).toBeGreaterThan(0);
    expect(f.linux.apparmor).toEqual({ enabled: false });
    expect(f.linux.selinux).toEqual({ enabled: SUPPORT.selinux });
    expect((f.linux.intelRdt as { enabled: boolean }).enabled).toBe(false);
  });

  test("annotations carry the version; JSON is indented like runc's", () => {
    expect(f.annotations["io.github.bunrunc.version"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(f.potentiallyUnsafeConfigAnnotations).toEqual([]);
    const text = featuresJson();
    expect(JSON.parse(text)).toEqual(f);
    expect(text.split("\n")[1]).toBe('    "ociVersionMin": "1.0.0",');
  });

  test("same top-level keys as Debian's runc features", () => {
    const runc = run(["/usr/sbin/runc", "features"]);
    expect(runc.code).toBe(0);
    const theirs = JSON.parse(runc.stdout);
    for (const k of Object.keys(theirs)) expect(Object.keys(f)).toContain(k);
    for (const k of Object.keys(theirs.linux)) expect(Object.keys(f.linux)).toContain(k);
  });

  const bin = join(REPO, "dist/bunrunc");
  test("dist/bunrunc features prints the same document, with no global flags", () => {
    expect(existsSync(bin)).toBe(true);
    const r = run([bin, "features"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual({ ...features(), annotations: printed.annotations });
    expect(printed.annotations["io.github.bunrunc.version"]).toBe(f.annotations["io.github.bunrunc.version"]);
  });
});
