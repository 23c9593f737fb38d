#!/usr/bin/env bash
# Installs everything (idempotent), builds, and runs every test tier with bun test, then checks
# that the suite left nothing behind (mounts, cgroups, processes, temp dirs).
# Prints "N passed, N failed, N skipped" from the JUnit reports and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p .test-results
report=.test-results/junit.xml
leaks=.test-results/leaks.xml
rm -f "$report" "$leaks"
bun=node_modules/.bin/bun
"$bun" scripts/leak-check.ts snapshot .test-results/before.json
"$bun" test --reporter=junit --reporter-outfile="$report" "$@" 2>&1 | tee .test-results/output.txt
status=${PIPESTATUS[0]}
"$bun" scripts/leak-check.ts stop-servers "$PWD/dist/bunrunc-core"
"$bun" scripts/leak-check.ts check .test-results/before.json "$leaks"
"$bun" scripts/junit-summary.ts "$status" "$report" "$leaks"
