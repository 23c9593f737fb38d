// `ps`: the container's processes (host pids, from its cgroup; src/lib/container-pids.ts when it has none). The table form runs the host's
// `ps` with the caller's arguments (default -ef) and keeps the header and the container's rows,
// as runc does.
import { readState } from "./container.ts";
import { containerPids } from "./container-pids.ts";
import { BunruncError } from "../base/errors.ts";

export interface PsOptions {
  root: string;
  id: string;
}

export function ps(opts: PsOptions): number[] {
  const saved = readState(opts.root, opts.id);
  return containerPids(saved);
}

/** Host `ps <args>` filtered to `pids`, header first; the text ends with a newline. */
export function psTable(pids: readonly number[], psArgs: readonly string[]): string {
  const args = psArgs.length ? [...psArgs] : ["-ef"];
  let r;
  try {
    r = Bun.spawnSync(["ps", ...args], { stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new BunruncError("system", `ps: ${(e as Error).message}`);
  }
  const out = r.stdout.toString();
  if (r.exitCode !== 0) throw new BunruncError("system", `ps: exit status ${r.exitCode}: ${(out + r.stderr.toString()).trim()}`);
  const lines = out.split("\n");
  const column = lines[0]!.trim().split(/\s+/).indexOf("PID");
  if (column < 0) throw new BunruncError("system", "couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const rows = [lines[0]!];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const pid = Number(line.trim().split(/\s+/)[column]);
    if (!Number.isInteger(pid)) throw new BunruncError("system", `unable to parse pid: ${line.trim().split(/\s+/)[column]}`);
    if (wanted.has(pid)) rows.push(line);
  }
  return `${rows.join("\n")}\n`;
}
