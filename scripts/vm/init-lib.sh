# What both first inits share (scripts/vm/init.sh, scripts/vm/systemd-init.sh): sourced from
# the initramfs, where busybox is all there is. run.sh packs it beside them as /bb/init-lib.sh.
B=/bb/busybox
O=trans=virtio,version=9p2000.L,msize=262144

# Stage 1: copies /bb, /init and what else is named to a tmpfs root and runs stage 2 there
# (pivot_root, which containers need, refuses the initramfs rootfs).
to_tmpfs_root() {
  $B mkdir -p /dev /n
  $B mount -t devtmpfs dev /dev
  $B mount -t tmpfs -o mode=755 root /n
  $B cp -a /bb /init "$@" /n/
  exec $B switch_root /n /init stage2
}

# The modules run.sh packed, in dependency order (virtio and 9p first: the mounts below need them).
load_modules() {
  while read -r m; do $B insmod "/bb/mod/$m"; done < /bb/mod/order
}

# The host's /usr read-only (bin, sbin, lib, lib64 link into it), /ctl (the command, its status,
# the list of shares), and each share read-write at its host path.
mount_host() {
  $B mount -t 9p -o $O,ro,cache=loose hostusr /usr
  for l in bin sbin lib lib64; do $B ln -s usr/$l /$l; done
  $B mount -t 9p -o $O ctl /ctl
  local i=0 d
  while read -r d; do
    $B mkdir -p "$d"
    $B mount -t 9p -o $O "share$i" "$d"
    i=$((i + 1))
  done < /ctl/shares
}

# Where the command's output goes: the virtio port named "out" (run.sh streams it as it comes).
out_port() {
  local p
  for p in /sys/class/virtio-ports/*; do [ "$($B cat "$p/name")" = out ] && { echo "/dev/${p##*/}"; return; }; done
  echo /dev/console
}
