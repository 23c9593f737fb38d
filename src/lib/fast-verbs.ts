// Which containers the static front may run `start`, `delete`, `kill` and `state` for without
// Bun, and the record it reads to do it (src/state/fast-record.ts; zig/front_verbs.zig). The
// front does exactly what start.ts, delete.ts, kill.ts and query.ts do on their plain path, and
// nothing else: so a container whose verbs do more there (hooks to run, devices to move back, a
// mount to detach, a systemd scope to stop) gets no record, and every call goes to bunrunc-core.
import { join } from "node:path";
import { goJson } from "../base/go-json.ts";
import { encodeFastRecord, FREEZER_NONE, FREEZER_V1, FREEZER_V2, writeFastRecord, type FastRecord } from "../state/fast-record.ts";
import type { ContainerState } from "./container.ts";
import { toStateJson } from "./query.ts";

/** Between `state`'s pid and status: what the front writes itself (json.MarshalIndent's layout). */
const PID_KEY = '\n  "pid": ';
const STATUS_SAMPLE = ',\n  "status": "created"';

/** The record for a created container, or null when its verbs must go through bunrunc-core. */
export function fastRecordFor(s: ContainerState): FastRecord | null {
  const b = s.bunrunc;
  if (s.status !== "created" || b.systemdUnit || b.rootfsMount || b.netDevices?.length || b.creator) return null;
  if (b.hooks?.poststart?.length || b.hooks?.poststop?.length) return null;
  if (!/^[1-9][0-9]*$/.test(b.initStartTime)) return null;
  const text = goJson(toStateJson({ ...s, pid: 0, status: "created" }), "  ");
  // Keys before pid are strings, whose newlines and quotes are escaped: the first match is it.
  const at = text.indexOf(`${PID_KEY}0${STATUS_SAMPLE}`);
  if (at < 0) return null;
  const freezer = freezerOf(s);
  const cgroupDirs = [...new Set(Object.values(b.cgroupPaths))];
  if (!cgroupDirs.every((d) => d.startsWith("/")) || (freezer.file && !freezer.file.startsWith("/"))) return null;
  return {
    pid: s.pid,
    startTime: BigInt(b.initStartTime),
    ownPidNs: b.ownPidNs,
    cgroupVersion: b.cgroupVersion,
    freezerKind: freezer.kind,
    freezerFile: freezer.file,
    cgroupDirs,
    stateHead: text.slice(0, at + PID_KEY.length),
    stateTail: text.slice(at + PID_KEY.length + 1 + STATUS_SAMPLE.length),
  };
}

/** The file container.ts's frozen() reads. */
function freezerOf(s: ContainerState): { kind: number; file: string } {
  const b = s.bunrunc;
  if (b.cgroupVersion === 2) return b.cgroupPaths[""] ? { kind: FREEZER_V2, file: join(b.cgroupPaths[""], "cgroup.freeze") } : { kind: FREEZER_NONE, file: "" };
  return b.cgroupPaths.freezer ? { kind: FREEZER_V1, file: join(b.cgroupPaths.freezer, "freezer.state") } : { kind: FREEZER_NONE, file: "" };
}

/** Writes the record beside state.json when the container qualifies; a failure only costs speed. */
export function recordFastVerbs(root: string, s: ContainerState): void {
  const record = fastRecordFor(s);
  const bytes = record && encodeFastRecord(record);
  if (!bytes) return;
  try {
    writeFastRecord(join(root, s.id), bytes);
  } catch {}
}
