// `bunrunc exec` with each flag, in a real running container, asserting what the exec'd process
// sees from the inside (and what the host sees of it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canRunContainers, cgroupOf, execIn, namespaces, run, SKIP, startContainer, type Container } from "./helpers.ts";

let c: Container;
beforeAll(async () => {
  if (canRunContainers) c = await startContainer((s) => (s.process!.env = [...s.process!.env!, "FROM_CONFIG=1"]));
});
afterAll(async () => {
  await c?.remove();
});

/** Runs `sh -c script` via exec with `flags`; expects success and returns stdout. */
function sh(flags: string[], script: string): string {
  const r = execIn(c, ...flags, c.id, "sh", "-c", script);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout;
}

const capBit = (status: string, field: string) => BigInt(`0x${new RegExp(`^${field}:\\s*([0-9a-f]+)`, "m").exec(status)![1]}`);
const CAP_KILL = 1n << 5n;
const CAP_SYS_ADMIN = 1n << 21n;
const CAP_NET_ADMIN = 1n << 12n;

describe.skipIf(!canRunContainers)(`exec flags${SKIP}`, () => {
  test("inline args: the process's own exit codes 0 and 3, stdout passes through", () => {
    expect(execIn(c, c.id, "sh", "-c", "echo out; exit 0")).toEqual({ code: 0, stdout: "out\n", stderr: "" });
    const r = execIn(c, c.id, "sh", "-c", "echo err >&2; exit 3");
    expect(r).toEqual({ code: 3, stdout: "", stderr: "err\n" });
  });

  test("joins every namespace of the container's init and its cgroups", () => {
    const out = sh([], "for n in mnt pid net ipc uts cgroup user; do readlink /proc/self/ns/$n; done; hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; cat /proc/self/cgroup");
    const lines = out.split("\n");
    const init = namespaces(c.pid);
    expect(lines.slice(0, 7)).toEqual(["mnt", "pid", "net", "ipc", "uts", "cgroup", "user"].map((n) => init[n]!));
    expect(lines[7]).toBe("runc");
    expect(lines[8]).toBe("sleep 600 ");
    // No cgroup namespace here: the process's cgroup paths read as the host reads the init's.
    expect(lines.slice(9).join("\n")).toBe(cgroupOf(c.pid));
  });

  test("--cwd, --env (added and replacing), the container's env kept", () => {
    const out = sh(["--cwd", "/tmp", "--env", "HELLO=world", "-e", "TERM=dumb", "-e", "HELLO=again"], 'pwd; echo "$HELLO $TERM $FROM_CONFIG"; env | grep -c ^HELLO=');
    expect(out).toBe("/tmp\nagain dumb 1\n1\n");
  });

  test("--user uid:gid, --user uid (gid from the config), --additional-gids / -g", () => {
    expect(sh(["--user", "65534:65534"], "id -u; id -g")).toBe("65534\n65534\n");
    expect(sh(["-u", "1000"], "id -u; id -g")).toBe("1000\n0\n");
    const groups = sh(["--user", "1000:1000", "--additional-gids", "5", "-g", "7"], "grep ^Groups: /proc/self/status");
    expect(groups.trim().split(/\s+/).slice(1).sort()).toEqual(["5", "7"]);
  });

  test("capabilities: the container's by default, --cap adds to bounding/effective/permitted only", () => {
    const base = sh([], "cat /proc/self/status");
    expect(capBit(base, "CapEff") & CAP_KILL).toBe(CAP_KILL);
    expect(capBit(base, "CapEff") & CAP_SYS_ADMIN).toBe(0n);
    const more = sh(["--cap", "CAP_SYS_ADMIN", "-c", "net_admin"], "cat /proc/self/status");
    for (const field of ["CapEff", "CapPrm", "CapBnd"]) expect(capBit(more, field) & (CAP_SYS_ADMIN | CAP_NET_ADMIN)).toBe(CAP_SYS_ADMIN | CAP_NET_ADMIN);
    expect(capBit(more, "CapInh")).toBe(0n);
    expect(capBit(more, "CapAmb") & CAP_SYS_ADMIN).toBe(0n);
  });

  test("--no-new-privs; without it the container's setting (false here) applies", () => {
    expect(sh([], "grep ^NoNewPrivs: /proc/self/status")).toBe("NoNewPrivs:\t0\n");
    expect(sh(["--no-new-privs"], "grep ^NoNewPrivs: /proc/self/status")).toBe("NoNewPrivs:\t1\n");
  });

  test("the container's rlimits apply", () => {
    expect(sh([], "ulimit -n")).toBe("1024\n");
  });

  test("--preserve-fds passes our fd 3 on", () => {
    const file = join(c.b.dir, "preserved");
    writeFileSync(file, "kept\n");
    const cmd = [...c.argv("exec", "--preserve-fds", "1", c.id, "cat", "/proc/self/fd/3")].map((a) => `'${a}'`).join(" ");
    const r = run(["sh", "-c", `exec 3<'${file}'; ${cmd}`]);
    expect(r).toEqual({ code: 0, stdout: "kept\n", stderr: "" });
    // Without the flag fd 3 does not cross.
    const r2 = run(["sh", "-c", `exec 3<'${file}'; ${cmd.replace("'--preserve-fds' '1' ", "")}`]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("/proc/self/fd/3");
  });

  test("--process FILE: the whole process comes from the file", () => {
    const file = join(c.b.dir, "process.json");
    const proc = {
      terminal: false,
      user: { uid: 1234, gid: 5678, additionalGids: [42] },
      args: ["sh", "-c", 'echo "$(id -u) $(id -g) $(pwd) $ONLY_HERE ${FROM_CONFIG:-unset}"; ulimit -n; exit 4'],
      env: ["PATH=/bin", "ONLY_HERE=yes"],
      cwd: "/etc",
      rlimits: [{ type: "RLIMIT_NOFILE", soft: 77, hard: 77 }],
    };
    writeFileSync(file, JSON.stringify(proc));
    // Inline overrides are ignored with --process (runc's rule).
    const r = execIn(c, "--process", file, "--cwd", "/tmp", c.id);
    expect(r).toEqual({ code: 4, stdout: "1234 5678 /etc yes unset\n77\n", stderr: "" });
  });

  test("--cgroup: a sub-cgroup of one controller (v1), and of all", () => {
    const paths = JSON.parse(readFileSync(join(c.b.root, c.id, "state.json"), "utf8")).bunrunc.cgroupPaths as Record<string, string>;
    const ctrl = paths.memory ? "memory" : "";
    const made = [...new Set(ctrl ? [paths.memory!] : Object.values(paths))].map((d) => join(d, "sub"));
    for (const d of made) mkdirSync(d);
    try {
      const flag = ctrl ? `${ctrl}:sub` : "sub";
      const own = sh(["--cgroup", flag], "cat /proc/self/cgroup");
      const line = own.split("\n").find((l) => (ctrl ? l.split(":")[1]!.split(",").includes("memory") : l.startsWith("0::")))!;
      expect(line.endsWith("/sub")).toBe(true);
      const bad = execIn(c, "--cgroup", ctrl ? `${ctrl}:nope` : "nope", c.id, "true");
      expect(bad.code).toBe(255);
      expect(bad.stderr).toContain("nope: no such cgroup");
    } finally {
      for (const d of made) rmdirSync(d);
    }
  });
});

describe.skipIf(!canRunContainers)(`exec and the container's seccomp${SKIP}`, () => {
  test("the container's filter applies to exec'd processes too", async () => {
    const s = await startContainer((spec) => {
      spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"], syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }] };
    });
    try {
      const r = execIn(s, s.id, "sh", "-c", "mkdir /tmp/x; echo rc=$?; grep ^Seccomp: /proc/self/status");
      expect(r.stdout).toBe("rc=1\nSeccomp:\t2\n");
      expect(r.stderr).toContain("Operation not permitted");
      // --no-new-privs moves the filter after the identity change; it still applies.
      expect(execIn(s, "--no-new-privs", "-u", "1000", s.id, "sh", "-c", "mkdir /tmp/y; echo rc=$?").stdout).toBe("rc=1\n");
    } finally {
      await s.remove();
    }
  });
});
