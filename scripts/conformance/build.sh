#!/usr/bin/env bash
# Builds the OCI runtime-tools validation suite (github.com/opencontainers/runtime-tools v0.9.0,
# from the Go module proxy) into .toolchain/runtime-tools: every validation/* program as
# bin/<name>.t, cmd/runtimetest, and the suite's rootfs tarball. Nothing of it is committed; the
# module versions are pinned by test/conformance/go.mod and go.sum (runtime-tools has no go.mod
# of its own: runtime-spec v1.0.2 and selinux v1.8.0 are the ones it was written against).
# Idempotent: a build whose stamp matches those pins is kept. Installs Debian's golang-go when no
# Go toolchain is on PATH (or in /usr/local/go). Prints the output directory on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
out=.toolchain/runtime-tools
stamp=$(cat test/conformance/go.mod test/conformance/go.sum scripts/conformance/build.sh | sha256sum | cut -c1-16)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then echo "$repo/$out"; exit 0; fi

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends golang-go >/dev/null
fi

rm -rf "$out"
mkdir -p "$out/module" "$out/bin"
cp test/conformance/go.mod test/conformance/go.sum "$out/module/"
# Everything Go writes stays under the cache dir (the module cache read-write so rm can remove it).
export GOPATH="$repo/$out/gopath" GOCACHE="$repo/$out/gocache" GOFLAGS="-modcacherw -mod=mod -buildvcs=false" GOTOOLCHAIN=local
cd "$out/module"
pkg=github.com/opencontainers/runtime-tools
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o ../bin/runtimetest "$pkg/cmd/runtimetest" >&2
for p in $(go list "$pkg/validation/..." | grep -v /validation/util); do
  go build -trimpath -ldflags="-s -w" -o "../bin/$(basename "$p").t" "$p" >&2
done
cp "$(go list -m -f '{{.Dir}}' "$pkg")/rootfs-amd64.tar.gz" ../bin/
chmod 0644 ../bin/rootfs-amd64.tar.gz
cd "$repo"
rm -rf "$out/gocache"
echo "$stamp" > "$out/stamp"
echo "$repo/$out"
