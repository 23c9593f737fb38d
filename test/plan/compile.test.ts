// The plan compiler: which ops, in which order, with which descriptions. Only the op envelope
// (kind + payload length) is walked; payloads are the init's business.
import { describe, expect, test } from "bun:test";
import { compilePlan, CompileError, WaitTag, type CompileOptions } from "../../src/plan/compile.ts";
import { CLONE, MOUNT_ATTR, MS } from "../../src/plan/linux.ts";
import { parseMountOptions } from "../../src/plan/mount-options.ts";
import { Op } from "../../src/plan/wire.ts";
import { timeOffsets } from "../../src/plan/namespaces.ts";
import { fullProcSysMounts } from "../../src/plan/host.ts";
import { cpuMask } from "../../src/plan/process-ops.ts";
import type { Spec } from "../../src/config/types.ts";
import { defaultSpec } from "../helpers/bundle.ts";

const base: CompileOptions = { id: "c1", bundle: "/b", rootfs: "/b/rootfs", execFifoFd: 5 };

function kinds(bytes: Uint8Array): Op[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Op[] = [];
  let off = 16;
  for (let i = 0; i < v.getUint32(12, true); i++) {
    out.push(v.getUint16(off, true));
    off += 8 + v.getUint32(off + 4, true);
    off += (8 - (off % 8)) % 8;
  }
  expect(off).toBe(v.getUint32(8, true));
  return out;
}

/** dest -> data of every Mount op (payload: source str, dest str, fstype str, flags u64, data str, ...). */
function mountData(bytes: Uint8Array): Map<string, string> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  const out = new Map<string, string>();
  let off = 16;
  for (let i = 0; i < v.getUint32(12, true); i++) {
    const len = v.getUint32(off + 4, true);
    if (v.getUint16(off, true) === Op.Mount) {
      let p = off + 8;
      const str = () => {
        const n = v.getUint32(p, true);
        const s = text.decode(bytes.subarray(p + 4, p + 4 + n));
        p += 4 + n + 1;
        return s;
      };
      str();
      const dest = str();
      str();
      p += 8;
      out.set(dest, str());
    }
    off += 8 + len;
    off += (8 - (off % 8)) % 8;
  }
  return out;
}

describe("compilePlan", () => {
  test("runc's default spec compiles in runc's order", () => {
    const plan = compilePlan(defaultSpec(), base);
    const k = kinds(plan.bytes);
    expect(k[0]).toBe(Op.WaitParent);
    const order = [Op.RootPropagation, Op.BindRootfs, Op.Mount, Op.Mknod, Op.Symlink, Op.PivotRoot, Op.ReadonlyPath, Op.MaskPath, Op.ReadonlyRoot, Op.Hostname, Op.Setsid, Op.NewKeyring, Op.Rlimit, Op.Identity, Op.Chdir, Op.ResolveExec, Op.NonDumpable, Op.ReportCreated, Op.WaitStart, Op.Exec];
    const firsts = order.map((o) => k.indexOf(o));
    expect(firsts.every((i) => i > 0)).toBe(true);
    expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
    expect(k.at(-1)).toBe(Op.Exec);
    expect(plan.cloneFlags).toBe(CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS);
    expect(plan.forks).toBe(false);
    expect(plan.descriptions).toContain("mount proc on /proc");
    expect(plan.descriptions).toContain("create device /dev/null");
    expect(plan.descriptions).toContain("mask /proc/kcore");
    expect(plan.descriptions).toContain("make /proc/sys read-only");
    expect(plan.descriptions).not.toContain("wait for prestart/createRuntime/createContainer hooks");
    expect(plan.descriptions.length).toBe(k.length);
  });

  test("hooks add a second WaitParent before pivot_root; startContainer hooks run after start", () => {
    const spec: Spec = { ...defaultSpec(), hooks: { createRuntime: [{ path: "/bin/true" }], startContainer: [{ path: "/bin/true" }] } };
    const plan = compilePlan(spec, base);
    const k = kinds(plan.bytes);
    const waits = k.flatMap((o, i) => (o === Op.WaitParent ? [i] : []));
    expect(waits.length).toBe(2);
    expect(waits[1]!).toBeLessThan(k.indexOf(Op.PivotRoot));
    expect(k.indexOf(Op.RunHook)).toBeGreaterThan(k.indexOf(Op.WaitStart));
    expect(WaitTag.Hooks).toBe(2);
  });

  test("seccomp goes before Identity without noNewPrivileges and last with it", () => {
    const seccomp = { flags: 0, program: new Uint8Array(8) };
    const spec = defaultSpec();
    const late = kinds(compilePlan(spec, { ...base, seccomp }).bytes);
    expect(late.indexOf(Op.Seccomp)).toBe(late.length - 2);
    spec.process!.noNewPrivileges = false;
    const early = kinds(compilePlan(spec, { ...base, seccomp }).bytes);
    expect(early.indexOf(Op.Seccomp)).toBeLessThan(early.indexOf(Op.Identity));
  });

  test("namespaces by path are joined, user first; a joined pid namespace forks", () => {
    const spec = defaultSpec();
    spec.linux!.namespaces = [{ type: "mount" }, { type: "network", path: "/proc/1/ns/net" }, { type: "pid", path: "/proc/1/ns/pid" }, { type: "user", path: "/proc/1/ns/user" }];
    const plan = compilePlan(spec, base);
    expect(plan.cloneFlags).toBe(CLONE.NEWNS);
    expect(plan.forks).toBe(true);
    expect(plan.descriptions.slice(2, 6)).toEqual(["join user namespace /proc/1/ns/user", "join network namespace /proc/1/ns/net", "join pid namespace /proc/1/ns/pid", "fork into the joined pid namespace"]);
  });

  test("a network namespace of its own gets lo up, before any join; a joined one or none does not", () => {
    const own = defaultSpec();
    own.linux!.namespaces = [{ type: "mount" }, { type: "network" }, { type: "user", path: "/proc/1/ns/user" }];
    const k = kinds(compilePlan(own, base).bytes);
    expect(k.filter((o) => o === Op.LoopbackUp).length).toBe(1);
    expect(k.indexOf(Op.LoopbackUp)).toBeLessThan(k.indexOf(Op.SetnsPath));
    const joined = defaultSpec();
    joined.linux!.namespaces = [{ type: "mount" }, { type: "network", path: "/proc/1/ns/net" }];
    expect(kinds(compilePlan(joined, base).bytes)).not.toContain(Op.LoopbackUp);
    const none = defaultSpec();
    none.linux!.namespaces = [{ type: "mount" }];
    expect(kinds(compilePlan(none, base).bytes)).not.toContain(Op.LoopbackUp);
  });

  test("no mount namespace: a private bind of the rootfs and chroot; the runtime's / is never touched", () => {
    const spec = defaultSpec();
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "mount");
    for (const noPivot of [false, true]) {
      const plan = compilePlan(spec, { ...base, noPivot });
      const k = kinds(plan.bytes);
      expect(plan.inRuntimeMountNs).toBe(true);
      expect(plan.cloneFlags & CLONE.NEWNS).toBe(0);
      for (const op of [Op.RootPropagation, Op.BindRootfs, Op.PivotRoot, Op.MoveRoot]) expect(k).not.toContain(op);
      expect(k.indexOf(Op.BindRootfsPrivate)).toBeLessThan(k.indexOf(Op.Mount));
      expect(k.indexOf(Op.ChrootRootfs)).toBeGreaterThan(k.lastIndexOf(Op.Mount));
      expect(k.indexOf(Op.ChrootRootfs)).toBeLessThan(k.indexOf(Op.MaskPath));
    }
    expect(compilePlan(defaultSpec(), base).inRuntimeMountNs).toBe(false);
  });

  test("--no-pivot, console, preserve-fds and --no-new-keyring", () => {
    const spec = defaultSpec();
    spec.process!.terminal = true;
    const k = kinds(compilePlan(spec, { ...base, noPivot: true, consoleSocketFd: 6, keepFds: 2, noNewKeyring: true }).bytes);
    expect(k).toContain(Op.MoveRoot);
    expect(k).not.toContain(Op.PivotRoot);
    expect(k).toContain(Op.Console);
    expect(k).not.toContain(Op.Setsid);
    expect(k).toContain(Op.KeepFds);
    expect(k).not.toContain(Op.NewKeyring);
  });

  test("errors name the JSON path", () => {
    const spec = defaultSpec();
    spec.process!.terminal = true;
    expect(() => compilePlan(spec, base)).toThrow("--console-socket: required when process.terminal is true");
    const idmap = defaultSpec();
    idmap.mounts!.push({ destination: "/data", type: "bind", source: "/tmp", options: ["rbind", "idmap"] });
    expect(() => compilePlan(idmap, base)).toThrow(CompileError);
    // The idmapped mount is made before compiling (src/lib/idmap.ts); a plan without its fd is refused.
    expect(() => compilePlan(idmap, base)).toThrow("mounts[7]: idmapped, but no idmapped mount was made for it");
    const noMnt = defaultSpec();
    noMnt.linux!.namespaces = [{ type: "pid" }];
    noMnt.linux!.rootfsPropagation = "private";
    expect(() => compilePlan(noMnt, base)).toThrow("linux.rootfsPropagation: needs a mount namespace");
    const rl = defaultSpec();
    rl.process!.rlimits = [{ type: "RLIMIT_BOGUS" as never, soft: 1, hard: 1 }];
    expect(() => compilePlan(rl, base)).toThrow("process.rlimits[0].type: unknown rlimit");
  });

  test("bind sources are resolved against the bundle; a bound /dev gets no device nodes", () => {
    const spec = defaultSpec();
    spec.mounts = [{ destination: "/proc", type: "proc", source: "proc" }, { destination: "dev", type: "bind", source: "/dev", options: ["rbind"] }, { destination: "/data", source: "data", options: ["bind", "ro"] }];
    const plan = compilePlan(spec, base);
    expect(plan.descriptions).toContain("mount /dev on /dev");
    expect(plan.descriptions).toContain("mount /b/data on /data");
    expect(kinds(plan.bytes)).not.toContain(Op.Mknod);
  });

  test("cgroup v1 mounts become a tmpfs with each hierarchy bound in", () => {
    const plan = compilePlan(defaultSpec(), { ...base, cgroup: { version: 1, paths: { memory: "/sys/fs/cgroup/memory/x", pids: "/sys/fs/cgroup/pids/x" } } });
    expect(plan.descriptions).toContain("mount tmpfs on /sys/fs/cgroup");
    expect(plan.descriptions).toContain("mount /sys/fs/cgroup/memory/x on /sys/fs/cgroup/memory");
    expect(plan.descriptions).toContain("remount /sys/fs/cgroup");
  });
});

/** The op descriptions of a compiled plan (the human side of each op). */
const steps = (spec: Spec, opts: Partial<CompileOptions> = {}) => compilePlan(spec, { ...base, ...opts }).descriptions;

describe("compilePlan, plan v2", () => {
  test("cgroup and time namespaces are made by the init after the Setup stop, not by clone3", () => {
    const spec = defaultSpec();
    spec.linux!.namespaces!.push({ type: "cgroup" }, { type: "time" });
    spec.linux!.timeOffsets = { boottime: { secs: 5 }, monotonic: { secs: -3, nanosecs: 7 } };
    const plan = compilePlan(spec, base);
    expect(plan.cloneFlags & (CLONE.NEWCGROUP | CLONE.NEWTIME)).toBe(0);
    expect(plan.newNamespaces & (CLONE.NEWCGROUP | CLONE.NEWTIME)).toBe(CLONE.NEWCGROUP | CLONE.NEWTIME);
    const k = kinds(plan.bytes);
    expect(k.indexOf(Op.Unshare)).toBeGreaterThan(k.indexOf(Op.WaitParent));
    expect(k.indexOf(Op.TimeNs)).toBeGreaterThan(k.indexOf(Op.WaitParent));
    expect(k.indexOf(Op.TimeNs)).toBeLessThan(k.indexOf(Op.BindRootfs));
    expect(plan.descriptions).toContain("unshare the cgroup namespace");
  });

  test("time offsets become timens_offsets lines; a bad clock or nanosecs is refused", () => {
    const spec = defaultSpec();
    spec.linux!.timeOffsets = { monotonic: { secs: -3, nanosecs: 7 }, boottime: { secs: 5 } };
    expect(timeOffsets(spec)).toBe("monotonic -3 7\nboottime 5 0\n");
    spec.linux!.timeOffsets = { realtime: { secs: 1 } } as never;
    expect(() => timeOffsets(spec)).toThrow("linux.timeOffsets.realtime: unknown clock");
    spec.linux!.timeOffsets = { boottime: { nanosecs: 1_000_000_000 } };
    expect(() => timeOffsets(spec)).toThrow("linux.timeOffsets.boottime.nanosecs");
  });

  test("sysctl keys that could leave /proc/sys are refused with the JSON path", () => {
    for (const key of ["a/b", "../x", "kernel..x", ".kernel", "kernel."]) {
      const spec = defaultSpec();
      spec.linux!.sysctl = { [key]: "1" };
      expect(() => compilePlan(spec, base)).toThrow(`linux.sysctl[${JSON.stringify(key)}]: not a sysctl key`);
    }
    const ok = defaultSpec();
    ok.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
    expect(steps(ok)).toContain("write sysctl net.ipv4.ip_forward");
  });

  test("--no-pivot carries the host's full proc/sysfs mounts outside the rootfs to detach", () => {
    const plan = compilePlan(defaultSpec(), { ...base, noPivot: true, host: { procSysMounts: (rootfs) => [`not-${rootfs}`] } });
    expect(plan.descriptions).toContain("move /b/rootfs onto / and chroot");
    expect(fullProcSysMounts("/nonexistent-rootfs")).toContain("/proc");
    expect(fullProcSysMounts("/")).toEqual([]);
  });

  test("the session keyring is runc's _ses.<id>; AppArmor and SELinux labels; the init's affinity is reset", () => {
    const spec = defaultSpec();
    spec.process!.apparmorProfile = "docker-default";
    const d = steps(spec);
    expect(d).toContain("join a new session keyring");
    expect(d).toContain("apply AppArmor profile docker-default");
    expect(d).toContain("reset the CPU affinity");
    spec.process!.selinuxLabel = "system_u:system_r:container_t:s0";
    expect(() => steps(spec, { host: { selinuxEnabled: () => false } })).toThrow("process.selinuxLabel: set, but SELinux is disabled");
    expect(steps(spec, { host: { selinuxEnabled: () => true } })).toContain("set SELinux label system_u:system_r:container_t:s0");
  });

  test("linux.mountLabel: refused without SELinux; with it, context= on tmpfs and devpts, never proc, sysfs, mqueue or binds", () => {
    const spec = defaultSpec();
    spec.linux!.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2";
    spec.mounts!.push({ destination: "/b", type: "bind", source: "/tmp", options: ["rbind"] });
    expect(() => compilePlan(spec, { ...base, host: { selinuxEnabled: () => false } })).toThrow(
      new CompileError("linux.mountLabel: set, but SELinux is disabled or not supported on this host"),
    );
    const data = mountData(compilePlan(spec, { ...base, host: { selinuxEnabled: () => true } }).bytes);
    const context = 'context="system_u:object_r:container_file_t:s0:c1,c2"';
    expect(data.get("/dev")).toBe(`mode=755,size=65536k,${context}`);
    expect(data.get("/dev/pts")).toEndWith(`,${context}`);
    for (const plain of ["/proc", "/sys", "/dev/mqueue", "/b"]) expect(data.get(plain)).not.toContain("context=");
  });

  test("CPU lists: ranges and singles; malformed ones name the field", () => {
    expect([...cpuMask("0-2,9", "x")]).toEqual([0b111, 0b10, 0, 0, 0, 0, 0, 0]);
    expect(() => cpuMask("3-1", "process.execCPUAffinity.final")).toThrow('process.execCPUAffinity.final: invalid CPU list "3-1"');
    expect(() => cpuMask("a", "x")).toThrow(CompileError);
  });
});

describe("parseMountOptions", () => {
  test("flags, clears, propagation, data", () => {
    const o = parseMountOptions(["nosuid", "ro", "rw", "noexec", "rslave", "mode=755", "size=1k", "strictatime"]);
    expect(o.flags).toBe(MS.NOSUID | MS.NOEXEC | MS.STRICTATIME);
    expect(o.propagation).toBe(MS.SLAVE | MS.REC);
    expect(o.data).toBe("mode=755,size=1k");
  });
  test("recursive attributes and the atime field", () => {
    const o = parseMountOptions(["rbind", "rro", "rnosuid", "rnoatime", "nosymfollow", "tmpcopyup"]);
    expect(o.flags).toBe(MS.BIND | MS.REC | MS.NOSYMFOLLOW);
    expect(o.attrSet).toBe(MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOATIME);
    expect(o.attrClr).toBe(MOUNT_ATTR.ATIME_MASK);
    expect(o.tmpcopyup).toBe(true);
    expect(parseMountOptions(["rro", "rrw"]).attrClr).toBe(MOUNT_ATTR.RDONLY);
  });
});
