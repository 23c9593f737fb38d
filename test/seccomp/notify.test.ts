// SCMP_ACT_NOTIFY end to end: the init hands its listener fd to create, create passes it with the
// container process state to an agent at listenerPath (test/seccomp/notify-agent.py), and the
// agent answers the trapped syscall made inside the container.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canRunContainers, runIn, SKIP_REASON } from "../lifecycle/container-helper.ts";
import { installSysprobe, removeSysprobe, sysprobe } from "./sysprobe.ts";

const hasPython = Bun.spawnSync(["python3", "-c", "import socket, fcntl; socket.recv_fds"], { stderr: "ignore" }).exitCode === 0;
const SKIP = SKIP_REASON || (process.arch !== "x64" ? " [skipped: the probe's syscall numbers are x86_64's]" : "") || (hasPython ? "" : " [skipped: needs python3 with socket.recv_fds for the agent]");
const AGENT = join(import.meta.dir, "notify-agent.py");
const SCHED_YIELD = 24; // x86_64; busybox sh never makes it, so the agent sees only the probe's

beforeAll(() => {
  if (!SKIP) sysprobe();
});
afterAll(removeSysprobe);

async function withAgent(noNewPrivileges: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-notify-"));
  const sock = join(dir, "agent.sock");
  const stateFile = join(dir, "state.json");
  const agent = Bun.spawn(["python3", AGENT, sock, stateFile, String(SCHED_YIELD), "4242"], { stdout: "pipe", stderr: "inherit" });
  try {
    // The pipe may hand the line over in pieces: read up to the first newline.
    const reader = agent.stdout.getReader();
    let greeting = "";
    while (!greeting.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      greeting += new TextDecoder().decode(value);
    }
    expect(greeting).toBe("ready\n");
    const r = await runIn("/sysprobe yield 24 -- getpid 39", (spec, b) => {
      installSysprobe(b.rootfs);
      spec.process!.noNewPrivileges = noNewPrivileges;
      spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", listenerPath: sock, listenerMetadata: "probe=1", syscalls: [{ names: ["sched_yield"], action: "SCMP_ACT_NOTIFY" }] };
    });
    r.b.cleanup();
    await agent.exited;
    return { r, state: existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")) : undefined, agentCode: agent.exitCode };
  } finally {
    if (agent.exitCode === null) agent.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe(`seccomp notify${SKIP}`, () => {
  for (const nnp of [true, false]) {
    test.skipIf(Boolean(SKIP))(`the agent gets the fd and the state, and answers the trapped call (noNewPrivileges ${nnp})`, async () => {
      const { r, state, agentCode } = await withAgent(nnp);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^yield 4242\ngetpid \d+\n$/);
      expect(agentCode).toBe(0);
      expect(state.fds).toBe(1);
      expect(state.state).toMatchObject({ fds: ["seccompFd"], metadata: "probe=1", state: { status: "creating" } });
      expect(state.state.pid).toBeGreaterThan(0);
      expect(state.state.state.pid).toBe(state.state.pid);
      expect(state.state.state.id).toMatch(/^run/);
    });
  }
});
