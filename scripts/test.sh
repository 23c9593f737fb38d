#!/usr/bin/env bash
# Installs everything (idempotent), builds, and runs every test tier with bun test.
# Prints "N passed, N failed, N skipped" from the JUnit report and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p .test-results
report=.test-results/junit.xml
rm -f "$report"
node_modules/.bin/bun test --reporter=junit --reporter-outfile="$report" "$@" 2>&1 | tee .test-results/output.txt
status=${PIPESTATUS[0]}
node_modules/.bin/bun scripts/junit-summary.ts "$report" "$status"
