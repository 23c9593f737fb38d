#!/usr/bin/env bash
# Installs everything bunrunc needs on a fresh Debian 12 machine, idempotently:
# Debian packages (runc as the reference runtime, busybox-static for test bundles, criu and
# iptables for checkpoint/restore — used by the VM tier, whose kernel criu supports, uidmap
# for rootless user namespaces with subordinate ids),
# Bun from npm (pinned in package.json) and Zig from PyPI (pinned below), then builds.
set -euo pipefail
cd "$(dirname "$0")/.."
ZIG_VERSION=0.14.1

need_apt=()
for pair in runc:runc busybox:busybox-static strace:strace hyperfine:hyperfine python3:python3 criu:criu iptables-restore:iptables newuidmap:uidmap; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/bun ] || [ ! -x node_modules/.bin/tsc ] || ! node_modules/.bin/bun --version >/dev/null 2>&1; then
  npm install --no-audit --no-fund --loglevel=error
fi

if [ ! -x .toolchain/zig/ziglang/zig ] || [ "$(.toolchain/zig/ziglang/zig version)" != "$ZIG_VERSION" ]; then
  rm -rf .toolchain/zig
  python3 -m pip install --quiet --disable-pip-version-check --target .toolchain/zig "ziglang==$ZIG_VERSION"
fi

bash scripts/build.sh
