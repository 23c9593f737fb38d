// Mount `options` of a runtime-spec mount -> mount(2) flags, propagation, data and the recursive
// mount_setattr attributes. Unknown options are filesystem data, as mount(8) treats them.
import { MOUNT_ATTR, MS } from "./linux.ts";

export interface MountOptions {
  flags: number;
  /** MS_SHARED/SLAVE/PRIVATE/UNBINDABLE [| MS_REC], applied after the mount; 0 = none. */
  propagation: number;
  data: string;
  attrSet: number;
  attrClr: number;
  tmpcopyup: boolean;
  /** `idmap` (the mount itself) or `ridmap` (its submounts too): an idmapped bind mount. */
  idmap?: "top" | "recursive";
}

/** [set?, flag]: set=true ORs the flag in, false clears it ("rw" clears MS_RDONLY). */
const FLAG_OPTIONS: Readonly<Record<string, readonly [boolean, number]>> = {
  async: [false, MS.SYNCHRONOUS],
  atime: [false, MS.NOATIME],
  bind: [true, MS.BIND],
  defaults: [true, 0],
  dev: [false, MS.NODEV],
  diratime: [false, MS.NODIRATIME],
  dirsync: [true, MS.DIRSYNC],
  exec: [false, MS.NOEXEC],
  iversion: [true, MS.I_VERSION],
  lazytime: [true, MS.LAZYTIME],
  loud: [false, MS.SILENT],
  mand: [true, MS.MANDLOCK],
  noatime: [true, MS.NOATIME],
  nodev: [true, MS.NODEV],
  nodiratime: [true, MS.NODIRATIME],
  noexec: [true, MS.NOEXEC],
  noiversion: [false, MS.I_VERSION],
  nolazytime: [false, MS.LAZYTIME],
  nomand: [false, MS.MANDLOCK],
  norelatime: [false, MS.RELATIME],
  nostrictatime: [false, MS.STRICTATIME],
  nosuid: [true, MS.NOSUID],
  nosymfollow: [true, MS.NOSYMFOLLOW],
  rbind: [true, MS.BIND | MS.REC],
  relatime: [true, MS.RELATIME],
  remount: [true, MS.REMOUNT],
  ro: [true, MS.RDONLY],
  rw: [false, MS.RDONLY],
  silent: [true, MS.SILENT],
  strictatime: [true, MS.STRICTATIME],
  suid: [false, MS.NOSUID],
  symfollow: [false, MS.NOSYMFOLLOW],
  sync: [true, MS.SYNCHRONOUS],
};

/** Propagation option names (also rootfsPropagation's values) -> MS_* flags. */
export const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Recursive (mount_setattr) options: [set?, attr]. */
const ATTR_OPTIONS: Readonly<Record<string, readonly [boolean, number]>> = {
  rro: [true, MOUNT_ATTR.RDONLY],
  rrw: [false, MOUNT_ATTR.RDONLY],
  rnosuid: [true, MOUNT_ATTR.NOSUID],
  rsuid: [false, MOUNT_ATTR.NOSUID],
  rnodev: [true, MOUNT_ATTR.NODEV],
  rdev: [false, MOUNT_ATTR.NODEV],
  rnoexec: [true, MOUNT_ATTR.NOEXEC],
  rexec: [false, MOUNT_ATTR.NOEXEC],
  rnodiratime: [true, MOUNT_ATTR.NODIRATIME],
  rdiratime: [false, MOUNT_ATTR.NODIRATIME],
  rnosymfollow: [true, MOUNT_ATTR.NOSYMFOLLOW],
  rsymfollow: [false, MOUNT_ATTR.NOSYMFOLLOW],
};

/**
 * The atime mode is one field for mount_setattr: the kernel wants the whole MOUNT_ATTR__ATIME
 * mask in attr_clr whenever any of it changes, and the value in attr_set. Clearing a mode falls
 * back to relatime, the kernel's default.
 */
const ATIME_ATTR_OPTIONS: Readonly<Record<string, number>> = {
  rnoatime: MOUNT_ATTR.NOATIME,
  rstrictatime: MOUNT_ATTR.STRICTATIME,
  rrelatime: MOUNT_ATTR.RELATIME,
  ratime: MOUNT_ATTR.RELATIME,
  rnorelatime: MOUNT_ATTR.RELATIME,
  rnostrictatime: MOUNT_ATTR.RELATIME,
};

export class MountOptionError extends Error {}

export function parseMountOptions(options: readonly string[] = []): MountOptions {
  const out: MountOptions = { flags: 0, propagation: 0, data: "", attrSet: 0, attrClr: 0, tmpcopyup: false };
  const data: string[] = [];
  for (const option of options) {
    const flag = FLAG_OPTIONS[option];
    if (flag) {
      out.flags = flag[0] ? out.flags | flag[1] : out.flags & ~flag[1];
      continue;
    }
    const propagation = PROPAGATION_OPTIONS[option];
    if (propagation !== undefined) {
      // The last propagation option wins; runc applies them in order, which ends the same way.
      out.propagation = propagation;
      continue;
    }
    const attr = ATTR_OPTIONS[option];
    if (attr) {
      if (attr[0]) {
        out.attrSet |= attr[1];
        out.attrClr &= ~attr[1];
      } else {
        out.attrClr |= attr[1];
        out.attrSet &= ~attr[1];
      }
      continue;
    }
    const atime = ATIME_ATTR_OPTIONS[option];
    if (atime !== undefined) {
      out.attrClr |= MOUNT_ATTR.ATIME_MASK;
      out.attrSet = (out.attrSet & ~MOUNT_ATTR.ATIME_MASK) | atime;
      continue;
    }
    if (option === "tmpcopyup") {
      out.tmpcopyup = true;
      continue;
    }
    if (option === "idmap" || option === "ridmap") {
      // An idmapped mount (runc 1.2+): ridmap idmaps the submounts too.
      out.idmap = option === "ridmap" ? "recursive" : out.idmap === "recursive" ? "recursive" : "top";
      continue;
    }
    data.push(option);
  }
  out.data = data.join(",");
  return out;
}

/** True when the mount is a bind mount: type "bind" or a bind/rbind option (runc's rule). */
export function isBindMount(type: string | undefined, options: readonly string[] = []): boolean {
  return type === "bind" || options.includes("bind") || options.includes("rbind");
}
