#!/usr/bin/env bash
# Builds the Zig artifacts (zig-out/) and then the single self-contained executable dist/bunrunc.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/zig.sh build -Doptimize=ReleaseSmall
mkdir -p dist
node_modules/.bin/bun build --compile --minify --bytecode src/main.ts --outfile dist/bunrunc >/dev/null
echo "built dist/bunrunc"
