// Run by detach.test.ts inside `unshare -m --propagation private`: podman never passes --root,
// so its exec lines are replayed byte for byte against the default root, with a private tmpfs
// over /run so the host's /run/bunrunc is never touched. Prints one JSON object of what it saw.
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec, makeBundle } from "../../helpers/bundle.ts";
import { receiver, runDetached } from "./helpers.ts";
import { bunruncArgv } from "../../helpers/cli-path.ts";
import * as ffi from "../../../src/ffi.ts";

// conmon is a child subreaper and reaps what it started: an exec'd process, whose parent (the
// runtime's intermediate) has exited, comes back to it. So are we, and we reap them before the
// delete, as conmon has by then: a killed init waits in the kernel until every process of its pid
// namespace is reaped, and left to the host's init (which may reap late) the delete could wait
// past its bound.
ffi.setChildSubreaper();
const execPids: number[] = [];

/** SIGKILL (if it still runs) and reap one of our exec'd processes, now our child. */
function killAndReap(pid: number): void {
  let fd: number;
  try {
    fd = ffi.pidfdOpen(pid);
  } catch {
    return; // gone: reaped already
  }
  try {
    ffi.pidfdSendSignal(fd, 9);
  } catch {} // exited already
  try {
    ffi.waitPidfd(fd);
  } catch {} // not ours after all: its reaper collects it
  ffi.close(fd);
}

const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run"]);
if (mounted.exitCode !== 0) throw new Error(`mount tmpfs on /run: ${mounted.stderr}`);

// Files, not pipes, for stdio: the detached exec'd process keeps them (runDetached explains).
const runtime = (args: string[]) => runDetached([...bunruncArgv(), ...args]);

const id = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
const b = makeBundle(defaultSpec(["sleep", "600"]));
const out: Record<string, unknown> = { id };
try {
  const BUNDLE = b.bundle;
  const RUNDIR = join(b.dir, "rundir");
  Bun.spawnSync(["mkdir", "-p", RUNDIR, join(BUNDLE, id)]);
  out.create = runtime(["--log-format=json", "--log", `${RUNDIR}/oci-log`, "create", "--bundle", BUNDLE, "--pid-file", `${RUNDIR}/pidfile`, id]);
  out.start = runtime(["start", id]);
  const initPid = Number(readFileSync(`${RUNDIR}/pidfile`, "utf8"));

  const process1 = `${BUNDLE}/${id}/exec-process-1`;
  writeFileSync(process1, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ["sleep", "300"], env: ["PATH=/bin"], cwd: "/", terminal: false }));
  out.exec = runtime(["--log-format=json", "--log", `${BUNDLE}/${id}/oci-log`, "exec", "--pid-file", `${BUNDLE}/${id}/exec_pid`, "--process", process1, "--detach", id]);
  const execPid = Number(readFileSync(`${BUNDLE}/${id}/exec_pid`, "utf8"));
  execPids.push(execPid);
  out.execPidFile = readFileSync(`${BUNDLE}/${id}/exec_pid`, "utf8");
  out.execSeesInitNs = readlinkSync(`/proc/${execPid}/ns/pid`) === readlinkSync(`/proc/${initPid}/ns/pid`);
  out.execComm = readFileSync(`/proc/${execPid}/comm`, "utf8").trim();

  const process2 = `${BUNDLE}/${id}/exec-process-2`;
  writeFileSync(process2, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ["sh"], env: ["PATH=/bin", "TERM=xterm"], cwd: "/", terminal: true, consoleSize: { height: 30, width: 90 } }));
  const socket = `/tmp/conmon-term.${id.slice(0, 8)}`;
  const conmon = await receiver(socket, "console", [
    { send: "stty size; echo $((6*7))\r" },
    { expect: "30 90" },
    { expect: "42" },
    { send: "exit 6\r" },
    { eof: true },
  ]);
  out.execTty = runtime(["--log-format=json", "--log", `${BUNDLE}/${id}/oci-log`, "exec", "--pid-file", `${BUNDLE}/${id}/exec_pid`, "--process", process2, "--detach", "--tty", "--console-socket", socket, id]);
  out.conmon = await conmon.result;
  if (existsSync(`${BUNDLE}/${id}/exec_pid`)) execPids.push(Number(readFileSync(`${BUNDLE}/${id}/exec_pid`, "utf8")));
  if (existsSync(socket)) Bun.spawnSync(["rm", "-f", socket]);
  out.ociLog = existsSync(`${BUNDLE}/${id}/oci-log`) ? readFileSync(`${BUNDLE}/${id}/oci-log`, "utf8") : "";
} catch (e) {
  out.error = String(e);
} finally {
  for (const pid of execPids) if (pid > 0) killAndReap(pid);
  out.delete = runtime(["delete", "--force", id]);
  b.cleanup();
  out.leftovers = othersInThisMountNamespace();
}

/**
 * Processes besides us in this private mount namespace once everything is deleted: none may be
 * left (a resident server started here would live on, out of every other caller's reach).
 */
function othersInThisMountNamespace(): string[] {
  const ours = readlinkSync("/proc/self/ns/mnt");
  const left: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/mnt`) === ours) left.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim()}`);
    } catch {} // gone, or a zombie (no namespaces left to hold)
  }
  return left;
}
console.log(JSON.stringify(out));
