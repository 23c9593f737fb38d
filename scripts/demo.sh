#!/usr/bin/env bash
# The demo: installs everything (scripts/setup.sh), makes a busybox bundle from Debian's
# busybox-static in a temp dir, runs it with dist/bunrunc printing from inside, then walks the
# usual workflow (spec, create, list, start, list, kill, delete) with its own --root. Cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (containers need it)" >&2; exit 1; }
bash scripts/setup.sh
bin="$PWD/dist/bunrunc"

work="$(mktemp -d /tmp/bunrunc-demo.XXXXXX)"
root="$work/state"
id="demo-$$"
cleanup() {
  "$bin" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  "$bin" --root "$root" delete --force "$id-run" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

# A busybox rootfs: the static binary and its applets.
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/proc" "$work/bundle/rootfs/sys" "$work/bundle/rootfs/dev" "$work/bundle/rootfs/etc"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for applet in sh echo cat hostname id ls sleep ps uname; do ln -s busybox "$work/bundle/rootfs/bin/$applet"; done
echo "root:x:0:0:root:/:/bin/sh" >"$work/bundle/rootfs/etc/passwd"
cd "$work/bundle"

step bunrunc spec
"$bin" spec
# Not a terminal (this script may not have one); print from inside the container.
python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "echo hello from $(hostname), pid $$, as $(id -un); uname -r; ls /"]
json.dump(c, open("config.json", "w"), indent=2)
PY

step bunrunc --root "$root" run "$id-run"
"$bin" --root "$root" run "$id-run"

python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["args"] = ["sleep", "300"]
json.dump(c, open("config.json", "w"), indent=2)
PY

step bunrunc --root "$root" create "$id"
"$bin" --root "$root" create "$id"
step bunrunc --root "$root" list
"$bin" --root "$root" list
step bunrunc --root "$root" start "$id"
"$bin" --root "$root" start "$id"
step bunrunc --root "$root" list
"$bin" --root "$root" list
step bunrunc --root "$root" state "$id"
"$bin" --root "$root" state "$id"
step bunrunc --root "$root" kill "$id" KILL
"$bin" --root "$root" kill "$id" KILL
for _ in $(seq 50); do
  "$bin" --root "$root" state "$id" | grep -q '"stopped"' && break
  sleep 0.1
done
step bunrunc --root "$root" list
"$bin" --root "$root" list
step bunrunc --root "$root" delete "$id"
"$bin" --root "$root" delete "$id"
step bunrunc --root "$root" list
"$bin" --root "$root" list
echo
echo "demo done"
