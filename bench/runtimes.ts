// The runtimes under test, each with its own --root under the bench's temp dir and the command
// lines of the verbs the cases use (runc's CLI; bunrunc is a drop-in, so the same lines).
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";

export interface Runtime {
  name: string;
  bin: string;
  root: string;
  /** Process names (/proc/<pid>/stat comm) of this runtime's own processes, for memory sums. */
  comms: RegExp;
  /** The real path of the resident server's binary, for a runtime whose calls a server does part of. */
  core?: string;
  /** Added to the environment of every call (bunrunc's direct path: BUNRUNC_SERVER=off). */
  env?: Record<string, string>;
  run(id: string, bundle: string): string[];
  create(id: string, bundle: string, pidFile?: string): string[];
  start(id: string): string[];
  delete(id: string): string[];
  exec(id: string, args: string[]): string[];
}

function runtime(name: string, bin: string, root: string, comms: RegExp): Runtime {
  mkdirSync(root, { recursive: true });
  const g = [bin, "--root", root];
  return {
    name,
    bin,
    root,
    comms,
    run: (id, bundle) => [...g, "run", "--bundle", bundle, id],
    create: (id, bundle, pidFile) => [...g, "create", "--bundle", bundle, ...(pidFile ? ["--pid-file", pidFile] : []), id],
    start: (id) => [...g, "start", id],
    // --force: the container's /bin/true may still be running when delete comes (both runtimes).
    delete: (id) => [...g, "delete", "--force", id],
    exec: (id, args) => [...g, "exec", id, ...args],
  };
}

/** bunrunc's processes: the front ("bunrunc"), the resident server ("bunrunc-core") and the sealed memfd init waiting for start ("memfd:bunrunc-init"). */
export function bunrunc(bin: string, work: string): Runtime {
  const rt = runtime("bunrunc", bin, join(work, "root-bunrunc"), /^(bunrunc|memfd:bunrunc-i)/);
  return { ...rt, core: realpathSync(`${bin}-core`) };
}

/**
 * bunrunc with the server off: every call execs bunrunc-core (what a caller in another mount
 * namespace gets, or BUNRUNC_SERVER=off). Named "bunrunc" in its cases' results, whose ids say
 * "direct"; no server to meter.
 */
export function bunruncDirect(bin: string, work: string): Runtime {
  return { ...runtime("bunrunc", bin, join(work, "root-bunrunc-direct"), /^(bunrunc|memfd:bunrunc-i)/), env: { BUNRUNC_SERVER: "off" } };
}

/** runc's CLI is "runc"; its init stages rename themselves "runc:[0:PARENT]" ... "runc:[2:INIT]". */
export function runc(bin: string, work: string): Runtime {
  return runtime("runc", bin, join(work, "root-runc"), /^runc/);
}

export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** `--version` output on one line ("bunrunc version 0.1.0; commit: ..."). */
export function versionLine(bin: string): string {
  const r = Bun.spawnSync({ cmd: [bin, "--version"], stdio: ["ignore", "pipe", "ignore"] });
  return r.stdout.toString().trim().split("\n").map((l) => l.trim()).filter(Boolean).join("; ");
}
