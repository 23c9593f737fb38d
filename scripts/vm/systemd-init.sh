#!/bb/busybox sh
# The systemd VM's first init (packed into its own initramfs by scripts/vm/run.sh --systemd).
# Stage 1 copies itself to a tmpfs root (pivot_root, which containers need, refuses the
# initramfs rootfs); stage 2 loads the modules, mounts the host's /usr read-only and the shares,
# fills /etc from the copy run.sh left in /ctl/etc, writes the command's oneshot unit, and execs
# systemd as PID 1. systemd mounts /proc, /sys and the cgroup v2 hierarchy itself, starts
# journald and the system D-Bus, then the unit; the unit writes the command's status to /ctl/rc
# and powers off.
. /bb/init-lib.sh
[ "$1" = stage2 ] || to_tmpfs_root
for d in proc sys dev tmp run usr ctl root etc var; do $B mkdir -p /$d; done
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev 2>/dev/null
load_modules
mount_host
$B cp -a /ctl/etc/. /etc/
$B cat /proc/sys/kernel/random/uuid | $B tr -d - > /etc/machine-id
OUT=$(out_port)
# The unit's script: the status is always a number (a signal's is 128+n, as from a shell).
$B cat > /run-cmd <<EOF
cd "$($B head -1 /ctl/shares)" || exit 1
/bin/sh -c "\$(cat /ctl/cmd)" </dev/null >$OUT 2>&1
echo \$? > /ctl/rc
sync
systemctl poweroff -ff
EOF
$B mkdir -p /etc/systemd/system/multi-user.target.wants
$B cat > /etc/systemd/system/vm-command.service <<EOF
[Unit]
Description=The command given to scripts/vm/run.sh --systemd
Wants=dbus.service
After=dbus.service systemd-logind.service
[Service]
Type=oneshot
TimeoutStartSec=infinity
Environment=HOME=/root TMPDIR=/tmp LANG=C.UTF-8
ExecStart=/bin/sh /run-cmd
[Install]
WantedBy=multi-user.target
EOF
$B ln -s ../vm-command.service /etc/systemd/system/multi-user.target.wants/vm-command.service
$B umount /sys /proc
exec /lib/systemd/systemd
