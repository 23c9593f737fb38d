// SCMP_ACT_NOTIFY end to end: the init hands its listener fd to create, create passes it with the
// container process state to an agent at listenerPath (test/seccomp/notify-agent.py), and the
// agent answers the trapped syscall made inside the container.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import { defaultSpec, makeBundle, uniqueId } from "../helpers/bundle.ts";
import { canRunFront, front, FRONT_SKIP, PATHS, pathSkip, pathTest, type Path } from "../helpers/front.ts";
import { canRunContainers, runIn, SKIP_REASON, withOut } from "../lib/container-helper.ts";
import { installSysprobe, removeSysprobe, sysprobe } from "./sysprobe.ts";

const hasPython = Bun.spawnSync(["python3", "-c", "import socket, fcntl; socket.recv_fds"], { stderr: "ignore" }).exitCode === 0;
const SKIP = SKIP_REASON || (process.arch !== "x64" ? " [skipped: the probe's syscall numbers are x86_64's]" : "") || (hasPython ? "" : " [skipped: needs python3 with socket.recv_fds for the agent]");
const AGENT = join(import.meta.dir, "notify-agent.py");
const SCHED_YIELD = 24; // x86_64; busybox sh never makes it, so the agent sees only the probe's

beforeAll(() => {
  if (!SKIP) sysprobe();
});
afterAll(removeSysprobe);

/** The agent on `sock`, once it says it listens. */
async function startAgent(sock: string, stateFile: string) {
  const agent = Bun.spawn(["python3", AGENT, sock, stateFile, String(SCHED_YIELD), "4242"], { stdout: "pipe", stderr: "inherit" });
  // The pipe may hand the line over in pieces: read up to the first newline.
  const reader = agent.stdout.getReader();
  let greeting = "";
  while (!greeting.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    greeting += new TextDecoder().decode(value);
  }
  if (greeting !== "ready\n") agent.kill();
  expect(greeting).toBe("ready\n");
  return agent;
}

async function withAgent(noNewPrivileges: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "bunrunc-notify-"));
  const sock = join(dir, "agent.sock");
  const stateFile = join(dir, "state.json");
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  try {
    agent = await startAgent(sock, stateFile);
    const r = await runIn("/sysprobe yield 24 -- getpid 39", (spec, b) => {
      installSysprobe(b.rootfs);
      spec.process!.noNewPrivileges = noNewPrivileges;
      spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", listenerPath: sock, listenerMetadata: "probe=1", syscalls: [{ names: ["sched_yield"], action: "SCMP_ACT_NOTIFY" }] };
    });
    r.b.cleanup();
    await agent.exited;
    return { r, state: existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")) : undefined, agentCode: agent.exitCode };
  } finally {
    if (agent?.exitCode === null) agent.kill();
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

  // exec hands its process's listener over as create does: a second agent on the same
  // listenerPath gets it, with the exec'd process's pid, and answers the exec'd call.
  const viaLibrary = async (root: string, id: string, pidFile: string, args: string[]) => bunrunc.exec({ root, id, pidFile, args });
  const viaFront = (path: Path) => async (root: string, id: string, pidFile: string, args: string[]) => {
    const r = front(path, ["--root", root, "exec", "--pid-file", pidFile, id, ...args]);
    expect(r.stderr).toBe("");
    return r.code;
  };
  const ways: [string, typeof viaLibrary, typeof test][] = [
    ["the library", viaLibrary, test],
    ...PATHS.map((p): [string, typeof viaLibrary, typeof test] => [`dist/bunrunc (${p})${pathSkip(p)}${FRONT_SKIP}`, viaFront(p), canRunFront ? pathTest(p) : test.skip]),
  ];
  for (const [way, execIt, t] of ways) {
    // t may already be test.skip (no SO_PEERPIDFD), which takes no skipIf.
    (SKIP ? test.skip : t)(`exec through ${way}: the agent gets the exec'd process's listener and pid, and answers its trapped call`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "bunrunc-notify-"));
      const sock = join(dir, "agent.sock");
      const spec = defaultSpec(["sleep", "60"]);
      const b = makeBundle(spec);
      const id = uniqueId("notify");
      const agents: ReturnType<typeof Bun.spawn>[] = [];
      try {
        installSysprobe(b.rootfs);
        const out = withOut(spec, b);
        spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", listenerPath: sock, listenerMetadata: "probe=1", syscalls: [{ names: ["sched_yield"], action: "SCMP_ACT_NOTIFY" }] };
        b.writeSpec(spec);
        agents.push(await startAgent(sock, join(dir, "create.json")));
        await bunrunc.create({ root: b.root, id, bundle: b.bundle });
        await bunrunc.start({ root: b.root, id });
        agents[0]!.kill();
        await agents[0]!.exited;
        rmSync(sock, { force: true });
        agents.push(await startAgent(sock, join(dir, "exec.json")));
        const pidFile = join(dir, "exec.pid");
        const code = await execIt(b.root, id, pidFile, ["sh", "-c", "/sysprobe yield 24 -- getpid 39 > /out/stdout"]);
        expect(code).toBe(0);
        expect(readFileSync(join(out, "stdout"), "utf8")).toMatch(/^yield 4242\ngetpid \d+\n$/);
        await agents[1]!.exited;
        expect(agents[1]!.exitCode).toBe(0);
        const got = JSON.parse(readFileSync(join(dir, "exec.json"), "utf8"));
        expect(got.fds).toBe(1);
        expect(got.state).toMatchObject({ fds: ["seccompFd"], metadata: "probe=1", pid: Number(readFileSync(pidFile, "utf8")), state: { id, status: "running" } });
        expect(got.state.state.pid).not.toBe(got.state.pid);
      } finally {
        for (const a of agents) if (a.exitCode === null) a.kill();
        await bunrunc.delete({ root: b.root, id, force: true }).catch(() => {});
        b.cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
