#!/usr/bin/env bash
# Builds the Zig artifacts (zig-out/), then dist/bunrunc-core (the Bun program: every verb, and
# the resident server) and dist/bunrunc (the small static front engines exec: zig/front.zig). The
# two are installed side by side; the front finds the core as "<its own path>-core".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/zig.sh build -Doptimize=ReleaseSmall
mkdir -p dist
# `bunrunc --version` prints the commit the executable was built from.
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# No .env / bunfig.toml autoload: bunrunc runs as root in whatever directory its caller is in
# (often the bundle), and a bunfig.toml there could preload code into it. The JIT policy keeps
# run-once startup code in the interpreter: each verb lives milliseconds, and tiering up its
# code cost ~30% more CPU than it saved (bench/README.md).
node_modules/.bin/bun build --compile --minify --bytecode \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=20 \
  --define "BUNRUNC_COMMIT=\"$commit\"" src/main.ts --outfile dist/bunrunc-core >/dev/null
install -m 0755 zig-out/bin/bunrunc dist/bunrunc
echo "built dist/bunrunc (front) and dist/bunrunc-core"
