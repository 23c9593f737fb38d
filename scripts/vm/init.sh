#!/bb/busybox sh
# The VM's init (packed into the initramfs by scripts/vm/run.sh). Stage 1 copies itself to a
# tmpfs root (pivot_root, which containers need, refuses the initramfs rootfs); stage 2 mounts
# the system, turns every cgroup v2 controller on at the root, shares /usr and the host dirs,
# runs the command from /ctl/cmd and writes its status to /ctl/rc.
. /bb/init-lib.sh
[ "$1" = stage2 ] || to_tmpfs_root /etc
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/bb/bin HOME=/root TMPDIR=/tmp
for d in proc sys dev tmp run usr ctl root; do $B mkdir -p /$d; done
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
$B mkdir -p /dev/pts /dev/shm
$B mount -t devpts -o ptmxmode=0666,newinstance devpts /dev/pts
$B mount -t tmpfs shm /dev/shm
$B mount -t tmpfs tmp /tmp
$B mount -t tmpfs run /run
$B mount -t cgroup2 cgroup2 /sys/fs/cgroup
$B mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
for c in $($B cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control; done
load_modules
# Loopback up: criu's kernel probe connects a TCP socket to itself.
$B ip link set lo up
mount_host
$B mkdir -p /bb/bin && /bb/busybox --install -s /bb/bin
OUT=$(out_port)
cd "$($B head -1 /ctl/shares)"
/bin/sh -c "$($B cat /ctl/cmd)" </dev/null >"$OUT" 2>&1
echo $? > /ctl/rc
$B sync
$B poweroff -f
