// Builds a tiny busybox image as a docker-archive tarball (manifest.json + config + one layer),
// the format `docker load`, `podman load` and `ctr images import` all accept, so the e2e tests
// never need a registry. Usage: bun scripts/e2e/image.ts OUT.tar [TAG]
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const IMAGE_TAG = "localhost/bunrunc-e2e:latest";
const BUSYBOX = "/bin/busybox";

function sh(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** The rootfs: static busybox with every applet, users for `-u`, a non-executable file for 126. */
function rootfs(dir: string): void {
  for (const d of ["bin", "etc", "proc", "sys", "dev", "root", "home/user", "var/tmp"]) mkdirSync(join(dir, d), { recursive: true });
  mkdirSync(join(dir, "tmp"), { mode: 0o1777 });
  chmodSync(join(dir, "tmp"), 0o1777);
  copyFileSync(BUSYBOX, join(dir, "bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  for (const applet of sh([BUSYBOX, "--list"]).split("\n")) {
    if (applet && applet !== "busybox") symlinkSync("busybox", join(dir, "bin", applet));
  }
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
  writeFileSync(join(dir, "etc/group"), "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n");
  writeFileSync(join(dir, "notexec"), "#!/bin/sh\necho never\n", { mode: 0o644 });
}

/** Writes the archive to `out`; returns its tag. Deterministic except for nothing: no timestamps. */
export function buildImageArchive(out: string, tag = IMAGE_TAG): string {
  const work = mkdtempSync(join(tmpdir(), "bunrunc-image-"));
  try {
    const root = join(work, "rootfs");
    rootfs(root);
    const pkg = join(work, "pkg");
    mkdirSync(pkg);
    const layer = join(work, "layer.tar");
    sh(["tar", "--numeric-owner", "--owner=0", "--group=0", "--mtime=@0", "--sort=name", "-C", root, "-cf", layer, "."]);
    const diffId = sha256(layer);
    mkdirSync(join(pkg, diffId));
    copyFileSync(layer, join(pkg, diffId, "layer.tar"));
    const config = JSON.stringify({
      architecture: "amd64",
      os: "linux",
      created: "1970-01-01T00:00:00Z",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"], WorkingDir: "/" },
      rootfs: { type: "layers", diff_ids: [`sha256:${diffId}`] },
      history: [{ created: "1970-01-01T00:00:00Z", created_by: "bunrunc scripts/e2e/image.ts" }],
    });
    const configId = new Bun.CryptoHasher("sha256").update(config).digest("hex");
    writeFileSync(join(pkg, `${configId}.json`), config);
    writeFileSync(join(pkg, "manifest.json"), JSON.stringify([{ Config: `${configId}.json`, RepoTags: [tag], Layers: [`${diffId}/layer.tar`] }]));
    writeFileSync(join(pkg, "repositories"), JSON.stringify({ [tag.split(":")[0]!]: { latest: diffId } }));
    // Entry names without "./": some importers match "manifest.json" literally.
    const entries = ["manifest.json", "repositories", `${configId}.json`, diffId];
    sh(["tar", "--numeric-owner", "--owner=0", "--group=0", "--mtime=@0", "--sort=name", "-C", pkg, "-cf", out, ...entries]);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: bun scripts/e2e/image.ts OUT.tar [TAG]");
    process.exit(2);
  }
  console.log(buildImageArchive(out, process.argv[3]));
}
