#!/usr/bin/env bash
# Runs the project's pinned Zig (installed by scripts/setup.sh under .toolchain/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/.toolchain/zig/ziglang/zig" "$@"
