#!/usr/bin/env bash
# Boots a throwaway VM whose only cgroup hierarchy is cgroup v2 and runs one command in it.
#
#   scripts/vm/run.sh [--systemd] [--share DIR]... [--timeout SECONDS] -- COMMAND...
#   scripts/vm/run.sh [--systemd] --setup          (install/cache everything, boot nothing)
#
# The VM is a Debian kernel (from apt, unpacked, never installed) with a busybox initramfs. The
# host's /usr is shared read-only (so bun, busybox, ps... run unchanged) and each --share DIR
# read-write at the same path. COMMAND runs with /bin/sh -c from the first share; its output
# streams to our stdout and its exit status is ours (255 when the VM gave none).
# --systemd boots systemd (the host's, from the shared /usr) as PID 1 instead of a busybox init:
# cgroup v2 only, journald and the system D-Bus running, a copy of the host's /etc without its
# enabled units; COMMAND runs as the oneshot unit vm-command.service (scripts/vm/systemd-init.sh).
# Cached under .toolchain/vm (idempotent). KVM is used when /dev/kvm works, else TCG.
# Env: VM_MEM (MiB, 1024), VM_SMP (2), VM_ACCEL (kvm|tcg, auto).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$REPO/.toolchain/vm
# The sock_diag modules: criu reads every socket of a process through them; its kernel probe
# also makes a tun device, a veth pair and an nftables table, and its network lock is an
# iptables(-nft) rule matching a mark; a network namespace is dumped with its conntrack table.
MODULES=(virtio_pci 9pnet_virtio 9p virtio_console virtio_blk unix_diag inet_diag tcp_diag udp_diag netlink_diag af_packet_diag tun veth nf_tables nft_compat xt_mark nf_conntrack_netlink)
# The host's /etc the VM needs beside passwd and group: alternatives (iptables-restore is a link
# through it) and containers (podman's policy and registries).
ETC_DIRS=(alternatives containers)
PACKAGES=(qemu-system-x86 busybox-static kmod cpio xz-utils)

die() { echo "vm: $*" >&2; exit 2; }

have_tools() {
  command -v qemu-system-x86_64 >/dev/null && command -v cpio >/dev/null && command -v depmod >/dev/null &&
    command -v modprobe >/dev/null && [ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root
}

install_tools() {
  have_tools && return
  command -v apt-get >/dev/null || die "qemu-system-x86_64, cpio, kmod and a static busybox are needed (no apt-get here)"
  echo "vm: installing ${PACKAGES[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  have_tools || die "tools still missing after apt-get install"
}

# The kernel package linux-image-amd64 points at, unpacked under $CACHE/kernel (not installed).
fetch_kernel() {
  [ -s "$CACHE/vmlinux" ] && [ -s "$CACHE/kversion" ] && return
  local kv deb
  kv=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{sub("linux-image-","",$2); print $2; exit}')
  [ -n "$kv" ] || { apt-get update -qq >/dev/null; kv=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{sub("linux-image-","",$2); print $2; exit}'); }
  [ -n "$kv" ] || die "cannot find the Debian kernel package (apt-cache depends linux-image-amd64)"
  echo "vm: fetching linux-image-$kv" >&2
  rm -rf "$CACHE/kernel" "$CACHE/dl" && mkdir -p "$CACHE/dl"
  (cd "$CACHE/dl" && apt-get download -qq "linux-image-$kv" >/dev/null)
  deb=$(ls "$CACHE"/dl/linux-image-*.deb)
  dpkg -x "$deb" "$CACHE/kernel"
  depmod -b "$CACHE/kernel" "$kv"
  # The uncompressed vmlinux boots through its PVH entry: no real-mode setup, no decompression
  # (seconds under TCG). It is the xz stream inside bzImage.
  local img=$CACHE/kernel/boot/vmlinuz-$kv off
  off=$(LC_ALL=C grep -obUaP '\xfd\x37\x7a\x58\x5a\x00' "$img" | head -1 | cut -d: -f1)
  tail -c +$((off + 1)) "$img" | xz -dcq > "$CACHE/vmlinux.tmp" 2>/dev/null || true
  [ -s "$CACHE/vmlinux.tmp" ] || die "could not extract vmlinux from $img"
  mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
  rm -rf "$CACHE/dl"
  echo "$kv" > "$CACHE/kversion"
}

# Named after what goes into it (the init script, the module list), so worktrees sharing the
# cache each boot their own and never rebuild one another's.
initrd_path() {
  local h
  h=$({ cat "$INIT_SCRIPT" "$INIT_LIB"; echo "${MODULES[*]} ${ETC_DIRS[*]}"; } | sha256sum | cut -c1-16)
  echo "$CACHE/initrd-$h.img"
}

build_initramfs() {
  [ -s "$INITRD" ] && return
  local kv ir m
  kv=$(cat "$CACHE/kversion")
  ir=$(mktemp -d)
  mkdir -p "$ir/bb/mod" "$ir/etc"
  cp /bin/busybox "$ir/bb/"
  cp /etc/passwd /etc/group "$ir/etc/"
  for m in "${ETC_DIRS[@]}"; do [ -e "/etc/$m" ] && cp -a "/etc/$m" "$ir/etc/"; done
  for m in "${MODULES[@]}"; do
    modprobe -d "$CACHE/kernel" -S "$kv" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'
  done | awk '!seen[$0]++' > "$ir/bb/mod/order.full"
  while read -r f; do cp "$f" "$ir/bb/mod/"; basename "$f"; done < "$ir/bb/mod/order.full" > "$ir/bb/mod/order"
  rm "$ir/bb/mod/order.full"
  cp "$INIT_SCRIPT" "$ir/init"
  cp "$INIT_LIB" "$ir/bb/init-lib.sh"
  chmod +x "$ir/init"
  (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.tmp.$$"
  mv "$INITRD.tmp.$$" "$INITRD"
  rm -rf "$ir"
}

setup() {
  mkdir -p "$CACHE"
  INITRD=$(initrd_path)
  install_tools
  fetch_kernel
  build_initramfs
}

# Some hosts' KVM (nested, paravirtualized) cannot run a stock kernel and hangs silently: a
# short probe boot decides once per machine, cached.
kvm_works() {
  [ -w /dev/kvm ] || return 1
  [ -f "$CACHE/kvm-ok" ] && return 0
  [ -f "$CACHE/kvm-bad" ] && return 1
  local saved_timeout=$timeout_s
  timeout_s=20
  printf 'true' > "$ctl/cmd"
  stream_start
  run_vm kvm 2>/dev/null
  stream_stop
  timeout_s=$saved_timeout
  printf '%s' "$cmd" > "$ctl/cmd"
  if [ -s "$ctl/rc" ]; then touch "$CACHE/kvm-ok"; return 0; fi
  echo "vm: KVM cannot boot a stock kernel on this host; using TCG" >&2
  touch "$CACHE/kvm-bad"
  return 1
}

shares=()
timeout_s=1500
INIT_SCRIPT=$REPO/scripts/vm/init.sh
INIT_LIB=$REPO/scripts/vm/init-lib.sh
systemd=
only_setup=
while [ $# -gt 0 ]; do
  case $1 in
    --setup) only_setup=1; shift ;;
    --systemd) systemd=1; INIT_SCRIPT=$REPO/scripts/vm/systemd-init.sh; shift ;;
    --share) shares+=("$(realpath "$2")"); shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ -n "$only_setup" ]; then
  setup
  if [ -n "$systemd" ] && [ ! -x /lib/systemd/systemd ]; then die "no /lib/systemd/systemd on this host (the systemd VM boots the host's)"; fi
  exit 0
fi
[ $# -gt 0 ] || die "usage: $0 [--systemd] [--share DIR]... [--timeout S] -- COMMAND..."
[ ${#shares[@]} -gt 0 ] || shares=("$REPO")
setup

ctl=$(mktemp -d /tmp/bunrunc-vm.XXXXXX)
trap '[ -n "${VM_KEEP:-}" ] || rm -rf "$ctl"' EXIT
printf '%s\n' "${shares[@]}" > "$ctl/shares"
cmd="$*"
printf '%s' "$cmd" > "$ctl/cmd"
# A small blank disk, so block I/O limits have a real device (/dev/vda) to name.
truncate -s 16M "$ctl/disk.img"
# no_timer_check: on a loaded host a TCG guest can fail the IO-APIC timer check and panic.
cmdline="console=ttyS0 ${VM_QUIET-quiet} panic=-1 no_timer_check cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
if [ -n "$systemd" ]; then
  [ -x /lib/systemd/systemd ] || die "no /lib/systemd/systemd on this host (the systemd VM boots the host's)"
  # The host's /etc, less what would start the host's own services, logins, timers or mounts
  # there, and less its secrets (nothing in the VM logs in or serves TLS).
  cp -a /etc "$ctl/etc" 2>/dev/null || true
  rm -rf "$ctl"/etc/systemd/system/*.wants "$ctl"/etc/systemd/system/*/*.wants "$ctl/etc/fstab" "$ctl/etc/machine-id" \
    "$ctl"/etc/shadow* "$ctl"/etc/gshadow* "$ctl"/etc/ssh/ssh_host_* "$ctl/etc/ssl/private"
  # AppArmor off: the Debian kernel enables it, but the host's /usr may have no apparmor_parser
  # (this host's own kernel has no AppArmor), and dockerd refuses to start containers then.
  cmdline="$cmdline systemd.show_status=0 apparmor=0"
fi

run_vm() { # $1 = kvm|tcg
  local acc virtfs=() i=0
  if [ "$1" = kvm ]; then acc=(-enable-kvm -cpu host,-arch-capabilities); else acc=(-accel tcg,thread=multi -cpu max); fi
  for s in "${shares[@]}"; do
    virtfs+=(-virtfs "local,path=$s,mount_tag=share$i,security_model=passthrough,multidevs=remap")
    i=$((i + 1))
  done
  rm -f "$ctl/rc"
  timeout "$timeout_s" qemu-system-x86_64 "${acc[@]}" -m "${VM_MEM:-1024}" -smp "${VM_SMP:-2}" \
    -nodefaults -no-user-config -display none -monitor none -no-reboot \
    -kernel "$CACHE/vmlinux" -initrd "$INITRD" -serial "file:$ctl/console.log" \
    -append "$cmdline" \
    -virtfs "local,path=/usr,mount_tag=hostusr,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$ctl,mount_tag=ctl,security_model=none" "${virtfs[@]}" \
    -drive "file=$ctl/disk.img,if=virtio,format=raw,cache=unsafe" \
    -device virtio-serial-pci -chardev "file,id=out,path=$ctl/out" -device virtserialport,chardev=out,name=out \
    </dev/null 3>&- || true
}

# The guest's output port -> a fifo -> our stdout, as it comes. fd 3 keeps a writer open so the
# reader cannot block on open if qemu dies first; closing it ends the reader.
stream_start() {
  rm -f "$ctl/out" && mkfifo "$ctl/out"
  exec 3<>"$ctl/out"
  cat "$ctl/out" 3>&- &
  reader=$!
}
stream_stop() {
  exec 3>&-
  wait "$reader" || true
}

accel=${VM_ACCEL:-}
if [ -z "$accel" ]; then if kvm_works; then accel=kvm; else accel=tcg; fi; fi
stream_start
run_vm "$accel"
stream_stop
if [ -s "$ctl/rc" ]; then exit "$(cat "$ctl/rc")"; fi
echo "vm: no exit status from the VM; console tail:" >&2
tail -20 "$ctl/console.log" >&2 || true
exit 255
