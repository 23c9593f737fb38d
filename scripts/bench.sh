#!/usr/bin/env bash
# `bun run bench`: build dist/bunrunc, then bunrunc vs runc side by side (bench/run.ts; flags pass
# through, e.g. --quick, --runs 50, --only run,csd). Needs root, runc, busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/bun ] || bash scripts/setup.sh
bash scripts/build.sh
exec node_modules/.bin/bun bench/run.ts "$@"
