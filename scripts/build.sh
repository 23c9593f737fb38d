#!/usr/bin/env bash
# Builds the Zig artifacts (zig-out/) and then the single self-contained executable dist/bunrunc.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/zig.sh build -Doptimize=ReleaseSmall
mkdir -p dist
# `bunrunc --version` prints the commit the executable was built from.
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
node_modules/.bin/bun build --compile --minify --bytecode --define "BUNRUNC_COMMIT=\"$commit\"" src/main.ts --outfile dist/bunrunc >/dev/null
echo "built dist/bunrunc"
