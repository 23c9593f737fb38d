// The new user namespace's uid/gid maps, written while the clone3 child waits for our ack. Root
// writes them itself. A user may write only a map of its own id (and, for gids, only after
// denying setgroups, which the kernel requires); anything more is its subordinate ids from
// /etc/subuid and /etc/subgid, which only the setuid newuidmap/newgidmap (package uidmap) may
// grant, after checking those files themselves. The files are read here too, so a missing range
// is named in one line instead of the tool's message.
import { readFileSync } from "node:fs";
import { procWrite } from "../ffi.ts";
import { BunruncError } from "../base/errors.ts";
import type { IdMapping, Spec } from "../config/types.ts";

interface Child {
  pid: number;
  pidfd: number;
}

type Kind = "uid" | "gid";

const TOOL: Record<Kind, string> = { uid: "newuidmap", gid: "newgidmap" };
const SUB_FILE: Record<Kind, string> = { uid: "/etc/subuid", gid: "/etc/subgid" };
const FIELD: Record<Kind, string> = { uid: "linux.uidMappings", gid: "linux.gidMappings" };
const TOOL_OUTPUT_MAX = 300;

function mapText(maps: readonly IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}

/** Writes both maps: directly as root or for a map of the caller's own id, else through the uidmap tools. */
export function writeUserNsMaps(child: Child, spec: Spec): void {
  const linux = spec.linux ?? {};
  const euid = process.geteuid!();
  for (const kind of ["uid", "gid"] as const) {
    const maps = kind === "uid" ? linux.uidMappings : linux.gidMappings;
    if (!maps?.length) continue;
    const own = kind === "uid" ? euid : process.getegid!();
    if (euid === 0) writeDirect(child, kind, maps);
    else if (onlyOwnId(maps, own)) {
      // The kernel takes an unprivileged gid_map only once setgroups is denied for good.
      if (kind === "gid") writeProc(child, "setgroups", "deny", FIELD.gid);
      writeDirect(child, kind, maps);
    } else writeWithTool(child, kind, maps, own);
  }
}

/** One mapping of one id, the caller's own: what the kernel lets a user write. */
function onlyOwnId(maps: readonly IdMapping[], own: number): boolean {
  return maps.length === 1 && Number(maps[0]!.size) === 1 && Number(maps[0]!.hostID) === own;
}

function writeDirect(child: Child, kind: Kind, maps: readonly IdMapping[]): void {
  writeProc(child, `${kind}_map`, mapText(maps), FIELD[kind]);
}

function writeProc(child: Child, file: string, text: string, where: string): void {
  try {
    // Through a procfs handle nothing can cover, the child proven alive after (zig/lib.zig).
    procWrite(child.pidfd, child.pid, file, text);
  } catch (e) {
    throw new BunruncError("system", `create: ${where}: write /proc/${child.pid}/${file}: ${(e as Error).message}`);
  }
}

function writeWithTool(child: Child, kind: Kind, maps: readonly IdMapping[], own: number): void {
  const field = FIELD[kind];
  const tool = Bun.which(TOOL[kind]);
  if (!tool) throw new BunruncError("system", `create: ${field}: mapping more than your own ${kind} (${own}) needs ${TOOL[kind]} (package uidmap), which is not on PATH`);
  checkSubordinate(kind, maps, own);
  const args = maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)]);
  let r;
  try {
    r = Bun.spawnSync([tool, String(child.pid), ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new BunruncError("system", `create: ${field}: ${tool}: ${(e as Error).message}`);
  }
  if (r.exitCode !== 0) {
    const said = (r.stderr.toString() + r.stdout.toString()).trim().split("\n")[0]!.slice(0, TOOL_OUTPUT_MAX);
    throw new BunruncError("system", `create: ${field}: ${TOOL[kind]} ${child.pid} failed (exit ${r.exitCode}): ${said}`);
  }
}

/** Every host id asked for is the caller's own or in its ranges of /etc/subuid (/etc/subgid); else one line naming the first that is not. */
function checkSubordinate(kind: Kind, maps: readonly IdMapping[], own: number): void {
  const ranges = subordinateRanges(kind);
  maps.forEach((m, i) => {
    const first = Number(m.hostID);
    const last = first + Number(m.size) - 1;
    if (first === own && last === own) return;
    if (ranges.some((r) => first >= r.start && last < r.start + r.count)) return;
    const have = ranges.length ? ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(", ") : "none";
    throw new BunruncError("invalid-config", `create: ${FIELD[kind]}[${i}]: host ${kind}s ${first}-${last} are not among ${userName()}'s subordinate ${kind}s in ${SUB_FILE[kind]} (${have})`);
  });
}

/** The caller's ranges, by name or by number as shadow's tools accept them. */
function subordinateRanges(kind: Kind): { start: number; count: number }[] {
  let text = "";
  try {
    text = readFileSync(SUB_FILE[kind], "utf8");
  } catch {}
  const id = String(process.geteuid!());
  const name = userName(false);
  const out: { start: number; count: number }[] = [];
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if ((who === id || (name && who === name)) && start && count) out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

/** The caller's login name from /etc/passwd ("uid N" when it has none; "" with `orUid` false). */
function userName(orUid = true): string {
  const uid = process.geteuid!();
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[2] === String(uid) && f[0]) return orUid ? `user ${f[0]} (uid ${uid})` : f[0];
    }
  } catch {}
  return orUid ? `uid ${uid}` : "";
}
