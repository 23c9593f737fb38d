// Checkpoint tests: whether CRIU can run here (and why not), a busybox counter container whose
// stdout the test reads line by line, and dist/bunrunc run as an engine runs it.
import { existsSync } from "node:fs";
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

export function counterBundle(): TestBundle {
  return makeBundle(defaultSpec(COUNTER));
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
    return this.lines.filter((l) => /^\d+$/.test(l)).map(Number);
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
  /** The write end of the container's stdin: kept open until the test ends. */
  stdin: { end(): unknown };
}

/**
 * dist/bunrunc with its stdio on pipes the container keeps (run -d, restore -d): the call's exit
 * code, its stderr when it failed (the container, if any, holds the pipe), and the stdout lines.
 */
export async function detached(args: string[], cwd?: string): Promise<Started> {
  const p = Bun.spawn([FRONT, ...args], { cwd, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const out = new Lines(p.stdout);
  const code = await p.exited;
  const stderr = code === 0 ? "" : await new Response(p.stderr).text();
  return { code, stderr, out, stdin: p.stdin };
}

/** A bunrunc call that does not leave a container holding its stdio. */
export async function call(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([FRONT, ...args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr };
}
