// The pure parts of exec: the process it runs (process.json or config + flags, and what it
// inherits), the exec plan's ops and order, and --cgroup resolution against a temp-dir
// hierarchy. No root needed.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execCgroupDirs } from "../../src/lib/exec-cgroup.ts";
import { dedupeEnv, execProcess } from "../../src/lib/exec-overrides.ts";
import { compileExecPlan, ExecWait, type ExecPlanOptions } from "../../src/plan/exec.ts";
import { CLONE } from "../../src/plan/linux.ts";
import type { SpecProcess } from "../../src/config/types.ts";
import { Op } from "../../src/plan/wire.ts";
import { defaultSpec } from "../helpers/bundle.ts";

const container = (): SpecProcess => ({ ...defaultSpec().process!, env: ["PATH=/bin", "A=1"], oomScoreAdj: 100 });
const tmp = mkdtempSync(join(tmpdir(), "bunrunc-test-execplan-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Op kinds and, for WaitParent, the tag: [Op, tag?][] */
function ops(bytes: Uint8Array): [Op, number?][] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: [Op, number?][] = [];
  let off = 16;
  for (let i = 0; i < v.getUint32(12, true); i++) {
    const kind = v.getUint16(off, true);
    out.push(kind === Op.WaitParent ? [kind, v.getUint32(off + 8, true)] : [kind]);
    off += 8 + v.getUint32(off + 4, true);
    off += (8 - (off % 8)) % 8;
  }
  expect(off).toBe(v.getUint32(8, true));
  return out;
}

const base = (p: SpecProcess, extra: Partial<ExecPlanOptions> = {}): ExecPlanOptions => ({
  id: "c1",
  process: p,
  namespaces: CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWNET,
  initPidfdFd: 3,
  newKeyring: true,
  selinuxEnabled: () => false,
  ...extra,
});

describe("execProcess", () => {
  test("inline: the container's process with args, flags applied, env deduplicated (last wins)", () => {
    const p = execProcess(container(), { args: ["sh", "-c", "x"], cwd: "/tmp", env: ["A=2", "B=3"], user: "7:8", additionalGids: [9], tty: true, noNewPrivs: true });
    expect(p.args).toEqual(["sh", "-c", "x"]);
    expect(p.cwd).toBe("/tmp");
    expect(p.env).toEqual(["PATH=/bin", "A=2", "B=3"]);
    expect(p.user).toMatchObject({ uid: 7, gid: 8, additionalGids: [9] });
    expect(p.terminal).toBe(true);
    expect(p.noNewPrivileges).toBe(true);
    expect(p.rlimits).toEqual(container().rlimits);
    expect(p.oomScoreAdj).toBe(100);
  });

  test("--cap normalizes names and adds to bounding/effective/permitted, not inheritable/ambient", () => {
    const p = execProcess(container(), { args: ["true"], caps: ["sys_admin", "CAP_KILL"] });
    expect(p.capabilities!.bounding).toContain("CAP_SYS_ADMIN");
    expect(p.capabilities!.effective).toContain("CAP_SYS_ADMIN");
    expect(p.capabilities!.permitted).toContain("CAP_SYS_ADMIN");
    expect(p.capabilities!.ambient).not.toContain("CAP_SYS_ADMIN");
    expect(p.capabilities!.inheritable ?? []).not.toContain("CAP_SYS_ADMIN");
    expect(p.capabilities!.effective!.filter((c) => c === "CAP_KILL")).toHaveLength(1);
  });

  test("--process: the file's process; what it leaves out comes from the container's", () => {
    const file = join(tmp, "p.json");
    writeFileSync(file, JSON.stringify({ user: { uid: 1, gid: 2 }, args: ["id"], cwd: "/", env: ["X=1", "X=2"] }));
    const p = execProcess(container(), { processFile: file, args: ["ignored"], cwd: "/ignored" });
    expect(p.args).toEqual(["id"]);
    expect(p.cwd).toBe("/");
    expect(p.env).toEqual(["X=2"]);
    expect(p.capabilities).toEqual(container().capabilities);
    expect(p.rlimits).toEqual(container().rlimits);
    expect(p.noNewPrivileges).toBe(true);
  });

  test("bad input: one line naming the flag", () => {
    expect(() => execProcess(container(), { args: [] })).toThrow("no command given");
    expect(() => execProcess(container(), { args: ["x"], user: "a:b" })).toThrow('--user "a:b": uid must be a number');
    expect(() => execProcess(container(), { args: ["x"], user: "1:2:3" })).toThrow("expected uid[:gid]");
    expect(() => execProcess(container(), { args: ["x"], additionalGids: [-1] })).toThrow("--additional-gids -1");
    expect(() => execProcess(container(), { args: ["x"], env: ["NOVALUE"] })).toThrow('--env "NOVALUE"');
  });

  test("dedupeEnv keeps the first position and the last value", () => {
    expect(dedupeEnv(["A=1", "B=1", "A=2", "C", "C"])).toEqual(["A=2", "B=1", "C"]);
  });
});

describe("compileExecPlan", () => {
  test("cgroup stop, setns through the pidfd, fork and stop, then the process ops, exec last", () => {
    const plan = compileExecPlan(base(execProcess(container(), { args: ["true"] })));
    expect(plan.forks).toBe(true);
    const k = ops(plan.bytes);
    expect(k.slice(0, 4)).toEqual([[Op.WaitParent, ExecWait.JoinCgroup], [Op.SetnsPidfd], [Op.Fork], [Op.WaitParent, ExecWait.Forked]]);
    const order = [Op.Setsid, Op.NewKeyring, Op.Rlimit, Op.OomScoreAdj, Op.Identity, Op.Chdir, Op.ResolveExec, Op.Exec];
    const at = order.map((o) => k.findIndex(([kind]) => kind === o));
    expect(at.every((i) => i > 3)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(k.at(-1)).toEqual([Op.Exec]);
    // No rootfs work: the mount namespace joined is already the container's.
    for (const never of [Op.Mount, Op.PivotRoot, Op.BindRootfs, Op.ReportCreated, Op.WaitStart]) expect(k.some(([kind]) => kind === never)).toBe(false);
    expect(plan.descriptions[1]).toBe("join the container's namespaces (mount, pid, network)");
  });

  test("no pid namespace to join: no fork; a terminal gets a console op; kept fds and seccomp placed", () => {
    const p = execProcess(container(), { args: ["sh"], tty: true });
    p.noNewPrivileges = true;
    const plan = compileExecPlan(base(p, { namespaces: CLONE.NEWNS, consoleSocketFd: 4, keepFds: 2, seccomp: { flags: 0, program: new Uint8Array(8) } }));
    expect(plan.forks).toBe(false);
    const k = ops(plan.bytes).map(([kind]) => kind);
    expect(k).not.toContain(Op.Fork);
    expect(k).toContain(Op.Console);
    expect(k).not.toContain(Op.Setsid);
    // With no_new_privs the filter goes last, right before exec (fewer syscalls to allow).
    expect(k.slice(-3)).toEqual([Op.KeepFds, Op.Seccomp, Op.Exec]);
  });

  test("a container without a mount namespace: chroot into the init's root after the setns, before the process ops", () => {
    const k = ops(compileExecPlan(base(container(), { namespaces: CLONE.NEWPID, rootFd: 4 })).bytes).map(([o]) => o);
    expect(k.filter((o) => o === Op.ChrootRootfs).length).toBe(1);
    expect(k.indexOf(Op.ChrootRootfs)).toBeGreaterThan(k.indexOf(Op.SetnsPidfd));
    expect(k.indexOf(Op.ChrootRootfs)).toBeLessThan(k.indexOf(Op.Identity));
    expect(ops(compileExecPlan(base(container())).bytes).map(([o]) => o)).not.toContain(Op.ChrootRootfs);
  });

  test("a terminal without a console socket fd, or no args, is a compile error", () => {
    expect(() => compileExecPlan(base(execProcess(container(), { args: ["sh"], tty: true })))).toThrow("console socket");
    expect(() => compileExecPlan(base({ ...container(), args: [] }))).toThrow("process.args");
  });
});

describe("execCgroupDirs", () => {
  const root = join(tmp, "cg");
  const v1 = { cpu: join(root, "cpu,cpuacct/c1"), cpuacct: join(root, "cpu,cpuacct/c1"), memory: join(root, "memory/c1") };
  for (const d of [...Object.values(v1), join(v1.cpu, "sub"), join(v1.memory, "sub"), join(v1.memory, "only")]) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "cgroup.procs"), "");
  }
  const state = { cgroupVersion: 1 as const, cgroupPaths: v1 };

  test("no --cgroup: the container's dirs, co-mounted controllers once", () => {
    expect(execCgroupDirs(state, [])).toEqual([v1.cpu, v1.memory]);
  });

  test("a path for all controllers, or per controller (either name of a co-mounted pair)", () => {
    expect(execCgroupDirs(state, ["sub"])).toEqual([join(v1.cpu, "sub"), join(v1.memory, "sub")]);
    expect(execCgroupDirs(state, ["memory:only"])).toEqual([v1.cpu, join(v1.memory, "only")]);
    expect(execCgroupDirs(state, ["cpuacct:sub", "memory:/only/"])).toEqual([join(v1.cpu, "sub"), join(v1.memory, "only")]);
  });

  test("errors: missing sub-cgroup, unknown controller, escaping path, a controller on v2", () => {
    expect(() => execCgroupDirs(state, ["nope"])).toThrow("no such cgroup");
    expect(() => execCgroupDirs(state, ["pids:sub"])).toThrow('no "pids" cgroup');
    expect(() => execCgroupDirs(state, ["../x"])).toThrow("below the container's cgroup");
    expect(() => execCgroupDirs({ cgroupVersion: 2, cgroupPaths: { "": v1.memory } }, ["memory:sub"])).toThrow("cgroup v2");
    expect(execCgroupDirs({ cgroupVersion: 2, cgroupPaths: { "": v1.memory } }, ["sub"])).toEqual([join(v1.memory, "sub")]);
  });
});
