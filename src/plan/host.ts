// What the compiler reads from the host, kept apart so compile.ts stays a function of its input.
import { existsSync, readFileSync } from "node:fs";

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Full (root "/") proc and sysfs mounts outside `rootfs`, in mountinfo order: with --no-pivot
 * they stay in the container's mount namespace, hidden only by the chroot.
 */
export function fullProcSysMounts(rootfs: string, mountinfo = "/proc/self/mountinfo"): string[] {
  const out: string[] = [];
  for (const line of readFileSync(mountinfo, "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0) continue;
    const fstype = f[sep + 1];
    const point = unescape(f[4] ?? "");
    if (f[3] !== "/" || (fstype !== "proc" && fstype !== "sysfs")) continue;
    if (point === rootfs || point.startsWith(rootfs.endsWith("/") ? rootfs : `${rootfs}/`)) continue;
    out.push(point);
  }
  return out;
}

/** SELinux is enabled when selinuxfs is mounted and we run under a label other than "kernel". */
export function selinuxEnabled(): boolean {
  if (!existsSync("/sys/fs/selinux/enforce")) return false;
  try {
    return readFileSync("/proc/self/attr/current", "utf8").replace(/\0/g, "").trim() !== "kernel";
  } catch {
    return false;
  }
}
