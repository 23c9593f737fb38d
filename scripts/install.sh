#!/usr/bin/env bash
# Installs bunrunc: builds dist/bunrunc when it is missing or older than the sources (running
# scripts/setup.sh first if the toolchain is absent), then copies dist/bunrunc-core and the front
# dist/bunrunc (which execs "<its path>-core") to $PREFIX/sbin (default /usr/local/sbin), each
# atomically and the core first, so a running engine never execs a half-written binary.
# Usage: bash scripts/install.sh [--prefix DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local
if [ "${1:-}" = "--prefix" ] && [ -n "${2:-}" ]; then prefix=$2; fi
dest="$prefix/sbin/bunrunc"

stale() {
  [ ! -x dist/bunrunc ] && return 0
  [ -n "$(find src zig build.zig package.json -newer dist/bunrunc -print -quit 2>/dev/null)" ]
}

if stale; then
  if [ ! -x node_modules/.bin/bun ] || [ ! -x .toolchain/zig/ziglang/zig ]; then
    bash scripts/setup.sh # installs the toolchain and builds
  else
    bash scripts/build.sh
  fi
fi

install -d "$prefix/sbin"
for name in bunrunc-core bunrunc; do
  install -m 0755 "dist/$name" "$prefix/sbin/$name.tmp.$$"
  mv -f "$prefix/sbin/$name.tmp.$$" "$prefix/sbin/$name"
done
echo "installed $dest ($(BUNRUNC_SERVER=off "$dest" --version 2>/dev/null | head -1 || echo "version unknown"))"
