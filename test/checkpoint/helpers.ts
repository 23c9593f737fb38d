// Checkpoint tests: whether CRIU can run here (and why not), a busybox counter container whose
// stdout the test reads line by line, and dist/bunrunc run as an engine runs it.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defaultSpec, makeBundle, type TestBundle } from "../helpers/bundle.ts";

const REPO = resolve(import.meta.dir, "../..");
export const FRONT = join(REPO, "dist/bunrunc");

/** Why CRIU cannot run here ("" when it can): not root, not installed, or `criu check` fails on this kernel. */
export function criuSkipReason(): string {
  if (process.getuid?.() !== 0) return "needs root";
  if (!existsSync(FRONT)) return "dist/bunrunc not built (scripts/build.sh)";
  if (!Bun.which("criu")) return "criu is not installed (apt-get install criu)";
  const r = Bun.spawnSync(["criu", "check"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode === 0) return "";
  const first = `${r.stdout}\n${r.stderr}`.split("\n").find((l) => l.includes("Error")) ?? `exit status ${r.exitCode}`;
  const kernel = Bun.spawnSync(["uname", "-r"]).stdout.toString().trim();
  return `criu check fails on this kernel (${kernel}): ${first.trim().slice(0, 160)}`;
}

/** Prints 0, 1, 2, ... one a line, every 200 ms. */
export const COUNTER = ["sh", "-c", "i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done"];

export function counterBundle(opts: { terminal?: boolean } = {}): TestBundle {
  const spec = defaultSpec(COUNTER);
  if (opts.terminal) spec.process!.terminal = true;
  return makeBundle(spec);
}

const KEEPER = join(import.meta.dir, "tty-keeper.py");

/** tty-keeper.py on `path` (conmon's part: it holds the pty master); resolves once it listens. */
export async function ttyKeeper(path: string): Promise<{ out: Lines; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn(["python3", KEEPER, path], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const out = new Lines(proc.stdout as ReadableStream<Uint8Array>);
  const deadline = Date.now() + 60_000;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error("tty-keeper.py never listened");
    await Bun.sleep(20);
  }
  return { out, proc };
}

/** Lines of a stream as they come; waitFor resolves once a predicate holds on what came so far. */
export class Lines {
  lines: string[] = [];
  done = false;
  private partial = "";
  private wake: (() => void) | undefined;
  constructor(stream: ReadableStream<Uint8Array>) {
    void this.pump(stream);
  }
  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        const text = this.partial + dec.decode(chunk, { stream: true });
        const parts = text.split("\n");
        this.partial = parts.pop()!;
        this.lines.push(...parts);
        this.wake?.();
      }
    } catch {}
    this.done = true;
    this.wake?.();
  }
  numbers(): number[] {
    // A terminal ends its lines with \r\n.
    return this.lines.map((l) => l.replace(/\r$/, "")).filter((l) => /^\d+$/.test(l)).map(Number);
  }
  async waitFor(what: string, pred: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; lines so far: ${this.lines.slice(-5).join(" | ")}${this.done ? " (stream ended)" : ""}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
  }
}

export interface Started {
  code: number;
  stderr: string;
  out: Lines;
}

/**
 * dist/bunrunc with its stdout and stderr on an anonymous pipe the container keeps (run -d,
 * restore -d), as conmon gives it, and its stdin /dev/null. Bun's own "pipe" stdio may be a
 * socketpair (CRIU dumps those only with --ext-unix-sk), so a shell makes the pipe and cat
 * forwards it; the call's exit status comes back through a file under `dir`. Returns it, what the
 * call printed when it failed (no container holds the pipe then), and the lines.
 */
export async function detached(args: string[], dir: string, cwd?: string): Promise<Started> {
  const rcFile = join(dir, `rc-${++calls}`);
  const script = `{ "$@"; echo $? > ${rcFile}; } 2>&1 | cat`;
  const p = Bun.spawn(["sh", "-c", script, "sh", FRONT, ...args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const out = new Lines(p.stdout);
  const deadline = Date.now() + 120_000;
  while (!existsSync(rcFile) || readFileSync(rcFile, "utf8") === "") {
    if (Date.now() > deadline) throw new Error(`bunrunc ${args.join(" ")} did not return`);
    await Bun.sleep(50);
  }
  const code = Number(readFileSync(rcFile, "utf8").trim());
  if (code !== 0) await out.waitFor("the failed call's message", () => out.done);
  return { code, stderr: code === 0 ? "" : out.lines.join("\n"), out };
}
let calls = 0;

/** A bunrunc call that does not leave a container holding its stdio. */
export async function call(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([FRONT, ...args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr };
}
