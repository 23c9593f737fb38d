// /dev inside the container: the spec's default devices, linux.devices, and the standard links.
// devpts, shm and mqueue come from the config's mounts, as the spec says.
import type { PlanWriter } from "./wire.ts";
import { Op } from "./wire.ts";
import type { SpecDevice } from "../config/types.ts";

interface Device {
  path: string;
  type: "c" | "b" | "p";
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

/** The runtime-spec's required default devices (config-linux.md, "Default Devices"). */
const DEFAULT_DEVICES: readonly Device[] = [
  { path: "/dev/null", type: "c", major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/zero", type: "c", major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/full", type: "c", major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/random", type: "c", major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/urandom", type: "c", major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/tty", type: "c", major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0 },
];

const LINKS: readonly (readonly [target: string, link: string])[] = [
  ["/proc/self/fd", "/dev/fd"],
  ["/proc/self/fd/0", "/dev/stdin"],
  ["/proc/self/fd/1", "/dev/stdout"],
  ["/proc/self/fd/2", "/dev/stderr"],
  ["pts/ptmx", "/dev/ptmx"],
];

const TYPE_CODE = { c: 99, b: 98, p: 112 } as const;

function fromSpec(d: SpecDevice): Device {
  // "u" is an unbuffered character device: the same node as "c".
  const type = d.type === "u" ? "c" : (d.type as Device["type"]);
  return {
    path: d.path,
    type,
    major: Number(d.major ?? 0),
    minor: Number(d.minor ?? 0),
    mode: Number(d.fileMode ?? 0o666) & 0o7777,
    uid: Number(d.uid ?? 0),
    gid: Number(d.gid ?? 0),
  };
}

/** The devices to create: defaults first (unless the config lists the same path), then the config's. */
export function devicesFor(devices: readonly SpecDevice[] = []): Device[] {
  const listed = new Set(devices.map((d) => d.path));
  return [...DEFAULT_DEVICES.filter((d) => !listed.has(d.path)), ...devices.map(fromSpec)];
}

/**
 * Emits Mknod for every device (bind from the host node when mknod is refused, e.g. in a user
 * namespace) and the /dev links. `devBound` = /dev is a bind mount of the host's: touch nothing.
 */
export function emitDevices(w: PlanWriter, devices: readonly SpecDevice[] | undefined, devBound: boolean): void {
  if (devBound) return;
  for (const d of devicesFor(devices)) {
    w.op(Op.Mknod, `create device ${d.path}`)
      .str(d.path)
      .u32(TYPE_CODE[d.type])
      .u32(d.major)
      .u32(d.minor)
      .u32(d.mode)
      .u32(d.uid)
      .u32(d.gid)
      .u32(1);
  }
  for (const [target, link] of LINKS) w.op(Op.Symlink, `symlink ${link} -> ${target}`).str(target).str(link);
}
