// The container process's attributes as it reads them from /proc: no_new_privs, oom_score_adj,
// scheduler policy and nice, I/O priority, personality, CPU affinity (not the runtime's); AppArmor/SELinux
// fields handled as runc does on a host without those LSMs.
import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as bunrunc from "../../src/lib/index.ts";
import { defaultSpec, makeBundle, uniqueId, type TestBundle } from "../helpers/bundle.ts";
import type { Spec } from "../../src/config/types.ts";
import { canRunContainers, cleanRuns, SKIP_REASON, statusField } from "./container-helper.ts";

const run = cleanRuns();
const cpus = availableParallelism();
const apparmorEnabled = existsSync("/sys/kernel/security/apparmor") && readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").startsWith("Y");
const selinuxEnabled = existsSync("/sys/fs/selinux/enforce");
const linux32Machine = ({ x64: "i686", arm64: "armv8l" } as Record<string, string>)[process.arch];

/** create with `edit` applied; returns the error it fails with (or undefined) and the state dir's fate. */
async function createError(edit: (s: Spec) => void): Promise<{ message?: string; stateLeft: boolean }> {
  const spec = defaultSpec(["true"]);
  edit(spec);
  const b: TestBundle = makeBundle(spec);
  const id = uniqueId("proc");
  try {
    const err = await bunrunc.create({ root: b.root, id, bundle: b.bundle }).then(
      () => undefined,
      (e: Error) => e,
    );
    if (!err) await bunrunc.delete({ root: b.root, id, force: true });
    return { message: err?.message, stateLeft: existsSync(join(b.root, id)) };
  } finally {
    b.cleanup();
  }
}

describe.skipIf(!canRunContainers)(`process attributes${SKIP_REASON}`, () => {
  test("args, env and cwd", async () => {
    const r = await run('pwd; echo "$FOO|$EMPTY|$#|$1"; env | grep -c PATH= ; true', (s) => {
      s.process!.cwd = "/made/by/create";
      s.process!.env = ["PATH=/bin", "FOO=bar baz", "EMPTY="];
      // The runner wraps the command as sh -c "(...) > /out/stdout": append two args for $1.
      s.process!.args = [...s.process!.args!, "arg0", "first arg"];
    });
    expect(r.out).toBe("/made/by/create\nbar baz||1|first arg\n1\n");
  });

  test("all five capability sets: a non-root user keeps its ambient capabilities across exec", async () => {
    const r = await run("cat /proc/self/status", (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      const caps = ["CAP_NET_RAW", "CAP_KILL"];
      s.process!.capabilities = { bounding: [...caps, "CAP_CHOWN"], effective: caps, permitted: caps, inheritable: caps, ambient: caps };
    });
    const bits = (1 << 13) | (1 << 5); // NET_RAW, KILL
    const hex = bits.toString(16).padStart(16, "0");
    expect(statusField(r.out, "CapInh")).toBe(hex);
    expect(statusField(r.out, "CapPrm")).toBe(hex);
    expect(statusField(r.out, "CapEff")).toBe(hex);
    expect(statusField(r.out, "CapAmb")).toBe(hex);
    expect(statusField(r.out, "CapBnd")).toBe((bits | 1).toString(16).padStart(16, "0"));
    expect(statusField(r.out, "Uid")).toBe("1000\t1000\t1000\t1000");
  });

  test("noNewPrivileges true and false", async () => {
    const on = await run("cat /proc/self/status");
    expect(statusField(on.out, "NoNewPrivs")).toBe("1");
    const off = await run("cat /proc/self/status", (s) => {
      s.process!.noNewPrivileges = false;
    });
    expect(statusField(off.out, "NoNewPrivs")).toBe("0");
  });

  test("oomScoreAdj", async () => {
    const r = await run("cat /proc/self/oom_score_adj", (s) => {
      s.process!.oomScoreAdj = 123;
    });
    expect(r.out).toBe("123\n");
  });

  test("scheduler: SCHED_BATCH with nice 7 (stat fields 41 and 19)", async () => {
    const r = await run("busybox cut -d' ' -f19,41 /proc/self/stat", (s) => {
      s.process!.scheduler = { policy: "SCHED_BATCH", nice: 7 };
    });
    expect(r.out).toBe("7 3\n");
  });

  test("ioPriority: best-effort class, priority 6", async () => {
    const r = await run("busybox ionice -p $$", (s) => {
      s.process!.ioPriority = { class: "IOPRIO_CLASS_BE", priority: 6 };
    });
    expect(r.out).toBe("best-effort: prio 6\n");
  });

  test.skipIf(!linux32Machine)(`personality LINUX32: uname -m reports the 32-bit machine${linux32Machine ? "" : " [skipped: no 32-bit personality name known for this arch]"}`, async () => {
    const r = await run("busybox uname -m", (s) => {
      s.linux!.personality = { domain: "LINUX32" };
    });
    expect(r.out).toBe(`${linux32Machine}\n`);
  });

  test.skipIf(cpus < 2)(`the init does not inherit the runtime's CPU affinity, and execCPUAffinity is not for it${cpus < 2 ? " [skipped: needs 2 CPUs]" : ""}`, async () => {
    const all = readFileSync("/proc/self/status", "utf8").match(/Cpus_allowed_list:\t(.*)/)![1];
    // Pin this test process (the runtime) to one CPU; the clone3 child would inherit that.
    expect(Bun.spawnSync(["taskset", "-p", "-c", "0", String(process.pid)]).exitCode).toBe(0);
    try {
      const plain = await run("grep Cpus_allowed_list /proc/self/status");
      expect(plain.out).toBe(`Cpus_allowed_list:\t${all}\n`);
      const exec = await run("grep Cpus_allowed_list /proc/self/status", (s) => {
        s.process!.execCPUAffinity = { initial: "0", final: "0" };
      });
      expect(exec.out).toBe(`Cpus_allowed_list:\t${all}\n`);
    } finally {
      Bun.spawnSync(["taskset", "-p", "-c", all!, String(process.pid)]);
    }
  });

  test("execCPUAffinity with a malformed CPU list is refused at create", async () => {
    const r = await createError((s) => {
      s.process!.execCPUAffinity = { final: "1-0" };
    });
    expect(r.message).toMatch(/process\.execCPUAffinity\.final/);
    expect(r.stateLeft).toBe(false);
  });

  test.skipIf(apparmorEnabled)(`apparmorProfile without AppArmor fails create as runc does (the profile write is refused)${apparmorEnabled ? " [skipped: AppArmor is enabled here]" : ""}`, async () => {
    const r = await createError((s) => {
      s.process!.apparmorProfile = "bunrunc-test-profile";
    });
    expect(r.message).toBe("create: apply AppArmor profile bunrunc-test-profile: write /proc/thread-self/attr/exec: invalid argument");
    expect(r.stateLeft).toBe(false);
  });

  test.skipIf(!apparmorEnabled)(`apparmorProfile "unconfined" is applied on exec${apparmorEnabled ? "" : " [skipped: AppArmor is not enabled here]"}`, async () => {
    const r = await run("cat /proc/self/attr/current", (s) => {
      s.process!.apparmorProfile = "unconfined";
    });
    expect(r.out.trim()).toBe("unconfined");
  });

  test.skipIf(selinuxEnabled)(`selinuxLabel without SELinux is refused with runc's reason${selinuxEnabled ? " [skipped: SELinux is enabled here]" : ""}`, async () => {
    const r = await createError((s) => {
      s.process!.selinuxLabel = "system_u:system_r:container_t:s0";
    });
    expect(r.message).toBe("create: process.selinuxLabel: set, but SELinux is disabled or not supported on this host");
    expect(r.stateLeft).toBe(false);
  });
});
