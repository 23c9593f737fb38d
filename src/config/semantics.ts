// Rules a schema cannot state field by field: what the spec says MUST (absolute paths, no
// duplicates, fields that need each other) and what runc refuses before it starts anything. Each
// check throws a ConfigProblem naming the JSON path of the offending value.
import { ConfigProblem } from "./issues.ts";
import { quote } from "../base/quote.ts";
import type { Config, Hook, Int, Linux, Mount, Process } from "./schema.ts";
import { HOOK_NAMES } from "./schema.ts";
import type { Resources } from "./schema-resources.ts";

type Path = (string | number)[];

function fail(path: Path, cause: string): never {
  throw new ConfigProblem(path, cause);
}

function requireAbsolute(path: Path, p: string): void {
  if (!p.startsWith("/")) fail(path, `must be an absolute path, got ${quote(p)}`);
}

/** Every rule for a whole config.json. */
export function checkConfig(c: Config): void {
  if (c.root && c.root.path === "") fail(["root", "path"], "must not be empty");
  c.mounts?.forEach((m, i) => checkMount(m, ["mounts", i]));
  if (c.process) checkProcess(c.process, ["process"]);
  if (c.hooks) for (const name of HOOK_NAMES) c.hooks[name]?.forEach((h, i) => checkHook(h, ["hooks", name, i]));
  if (c.linux) checkLinux(c.linux, ["linux"], c);
}

/** What `create` cannot do without, beyond the spec's own rules (runc refuses the same). */
export function checkRunnable(c: Config): void {
  if (!c.root) fail(["root"], "required field is missing");
  if (!c.process) fail(["process"], "required field is missing");
  checkProcessArgs(c.process, ["process"]);
}

export function checkProcessArgs(p: Process, path: Path): void {
  if (!p.args?.length) fail([...path, "args"], "must not be empty");
}

export function checkProcess(p: Process, path: Path): void {
  requireAbsolute([...path, "cwd"], p.cwd);
  const seen = new Map<string, number>();
  p.rlimits?.forEach((r, i) => {
    const first = seen.get(r.type);
    if (first !== undefined) fail([...path, "rlimits", i, "type"], `duplicate ${quote(r.type)} (also at rlimits[${first}])`);
    seen.set(r.type, i);
  });
  const s = p.scheduler;
  if (s) {
    const at = [...path, "scheduler"];
    if (s.nice !== undefined && (s.nice < -20 || s.nice > 19)) fail([...at, "nice"], `expected -20 to 19, got ${s.nice}`);
    if (s.priority !== undefined && s.priority !== 0 && s.policy !== "SCHED_FIFO" && s.policy !== "SCHED_RR") {
      fail([...at, "priority"], `only SCHED_FIFO and SCHED_RR take a priority, policy is ${s.policy}`);
    }
    for (const k of ["runtime", "deadline", "period"] as const) {
      if (isSet(s[k]) && s.policy !== "SCHED_DEADLINE") fail([...at, k], `only SCHED_DEADLINE takes ${k}, policy is ${s.policy}`);
    }
  }
}

function isSet(n: Int | undefined): boolean {
  return n !== undefined && n !== 0 && n !== 0n;
}

function checkMount(m: Mount, path: Path): void {
  if (m.destination === "") fail([...path, "destination"], "must not be empty");
  // Relative destinations are deprecated but allowed on Linux (taken relative to "/").
  if (m.uidMappings && !m.gidMappings) fail([...path, "uidMappings"], "given without gidMappings (both or neither)");
  if (m.gidMappings && !m.uidMappings) fail([...path, "gidMappings"], "given without uidMappings (both or neither)");
}

function checkHook(h: Hook, path: Path): void {
  requireAbsolute([...path, "path"], h.path);
  if (h.timeout !== undefined && h.timeout <= 0) fail([...path, "timeout"], `must be greater than zero, got ${h.timeout}`);
}

function checkLinux(l: Linux, path: Path, c: Config): void {
  const ns = new Map<string, { index: number; path?: string }>();
  l.namespaces?.forEach((n, i) => {
    const at = [...path, "namespaces", i];
    const first = ns.get(n.type);
    if (first) fail([...at, "type"], `duplicate namespace ${quote(n.type)} (also at namespaces[${first.index}])`);
    if (n.path !== undefined && n.path !== "") requireAbsolute([...at, "path"], n.path);
    ns.set(n.type, { index: i, path: n.path || undefined });
  });
  checkUserNamespace(l, path, ns.get("user"));
  const time = ns.get("time");
  if (l.timeOffsets && Object.keys(l.timeOffsets).length) {
    if (!time) fail([...path, "timeOffsets"], 'set, but linux.namespaces has no "time" namespace');
    if (time.path) fail([...path, "timeOffsets"], "cannot be applied to a joined time namespace (namespaces[].path is set)");
  }
  if (c.hostname && !ns.has("uts")) fail(["hostname"], 'set, but linux.namespaces has no "uts" namespace');
  if (c.domainname && !ns.has("uts")) fail(["domainname"], 'set, but linux.namespaces has no "uts" namespace');
  l.devices?.forEach((d, i) => {
    const at = [...path, "devices", i];
    requireAbsolute([...at, "path"], d.path);
    if (d.type !== "p" && d.major === undefined) fail([...at, "major"], `required for a device of type "${d.type}"`);
    if (d.type !== "p" && d.minor === undefined) fail([...at, "minor"], `required for a device of type "${d.type}"`);
  });
  if (l.netDevices) {
    if (Object.keys(l.netDevices).length && !ns.has("network")) fail([...path, "netDevices"], 'set, but linux.namespaces has no "network" namespace');
    for (const [name, dev] of Object.entries(l.netDevices)) {
      checkInterfaceName([...path, "netDevices", name], name);
      if (dev.name !== undefined) checkInterfaceName([...path, "netDevices", name, "name"], dev.name);
    }
  }
  l.maskedPaths?.forEach((p, i) => requireAbsolute([...path, "maskedPaths", i], p));
  l.readonlyPaths?.forEach((p, i) => requireAbsolute([...path, "readonlyPaths", i], p));
  if (l.resources) checkResources(l.resources, [...path, "resources"]);
  if (l.seccomp) checkSeccomp(l.seccomp, [...path, "seccomp"]);
  if (l.intelRdt) checkIntelRdt(l.intelRdt, [...path, "intelRdt"]);
  if (l.memoryPolicy) checkMemoryPolicy(l.memoryPolicy, [...path, "memoryPolicy"]);
}

function checkUserNamespace(l: Linux, path: Path, userns: { path?: string } | undefined): void {
  const hasMappings = Boolean(l.uidMappings?.length || l.gidMappings?.length);
  if (!userns) {
    if (hasMappings) fail([...path, l.uidMappings?.length ? "uidMappings" : "gidMappings"], 'set, but linux.namespaces has no "user" namespace');
    return;
  }
  if (userns.path) return; // joining: the namespace already has its mappings
  if (!l.uidMappings?.length) fail([...path, "uidMappings"], "required when a new user namespace is created");
  if (!l.gidMappings?.length) fail([...path, "gidMappings"], "required when a new user namespace is created");
}

/** Kernel interface names: 1-15 bytes, no "/", ":" or whitespace, not "." or "..". */
function checkInterfaceName(path: Path, name: string): void {
  const ok = name.length > 0 && Buffer.byteLength(name) <= 15 && !/[/:\s]/.test(name) && name !== "." && name !== "..";
  if (!ok) fail(path, `invalid network interface name ${quote(name)}`);
}

export function checkResources(r: Resources, path: Path): void {
  r.blockIO?.weightDevice?.forEach((d, i) => {
    if (d.weight === undefined && d.leafWeight === undefined) fail([...path, "blockIO", "weightDevice", i], "needs weight or leafWeight");
  });
  for (const [name, limits] of Object.entries(r.rdma ?? {})) {
    if (limits.hcaHandles === undefined && limits.hcaObjects === undefined) fail([...path, "rdma", name], "needs hcaHandles or hcaObjects");
  }
  const cpu = r.cpu;
  if (cpu?.burst !== undefined && cpu.quota !== undefined && cpu.quota > 0 && cpu.burst > cpu.quota) {
    fail([...path, "cpu", "burst"], `must not exceed quota (${cpu.quota}), got ${cpu.burst}`);
  }
}

const ERRNO_ACTIONS = new Set(["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"]);
const SECCOMP_ARGS_MAX = 6;

function checkSeccomp(s: NonNullable<Linux["seccomp"]>, path: Path): void {
  if (s.listenerMetadata && !s.listenerPath) fail([...path, "listenerMetadata"], "set without listenerPath");
  if (s.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.has(s.defaultAction)) {
    fail([...path, "defaultErrnoRet"], `${s.defaultAction} does not return an errno`);
  }
  s.syscalls?.forEach((sc, i) => {
    const at = [...path, "syscalls", i];
    if (sc.errnoRet !== undefined && !ERRNO_ACTIONS.has(sc.action)) fail([...at, "errnoRet"], `${sc.action} does not return an errno`);
    sc.args?.forEach((a, j) => {
      if (a.index >= SECCOMP_ARGS_MAX) fail([...at, "args", j, "index"], `expected 0 to ${SECCOMP_ARGS_MAX - 1} (a syscall has 6 arguments), got ${a.index}`);
    });
  });
}

function checkIntelRdt(r: NonNullable<Linux["intelRdt"]>, path: Path): void {
  const id = r.closID;
  // "/" is the default CLOS; any other id names one resctrl directory.
  if (id !== undefined && id !== "/" && (id === "." || id === ".." || /[/\n]/.test(id))) fail([...path, "closID"], `invalid CLOS id ${quote(id)}`);
  if (r.l3CacheSchema?.includes("\n")) fail([...path, "l3CacheSchema"], "must not contain newlines");
  if (r.memBwSchema !== undefined) {
    if (!r.memBwSchema.startsWith("MB:")) fail([...path, "memBwSchema"], `must start with "MB:", got ${quote(r.memBwSchema)}`);
    if (r.memBwSchema.includes("\n")) fail([...path, "memBwSchema"], "must not contain newlines");
  }
  r.schemata?.forEach((line, i) => {
    if (line.includes("\n")) fail([...path, "schemata", i], "must not contain newlines");
  });
}

const NO_NODES = new Set(["MPOL_DEFAULT", "MPOL_LOCAL"]);
const NEEDS_NODES = new Set(["MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED_MANY"]);

function checkMemoryPolicy(m: NonNullable<Linux["memoryPolicy"]>, path: Path): void {
  const hasNodes = Boolean(m.nodes);
  if (NO_NODES.has(m.mode) && hasNodes) fail([...path, "nodes"], `${m.mode} takes no nodes, got ${quote(m.nodes)}`);
  if (NEEDS_NODES.has(m.mode) && !hasNodes) fail([...path, "nodes"], `${m.mode} needs at least one node`);
}
