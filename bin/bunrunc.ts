#!/usr/bin/env bun
// The packed package's `bunrunc` command (package.json "bin" in the tarball scripts/pack.ts
// makes): runc's command line, run by Bun from the TypeScript sources beside it — the direct
// path, as dist/bunrunc-core runs it. The static front and the resident server come with a full
// install (scripts/install.sh), not with the package.
import "../src/main.ts";
