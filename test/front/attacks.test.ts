// Attacks on the front's own verbs (zig/front_verbs.zig): a record that names a process of the
// attacker's choice (a victim: a sleep this test starts) planted as a symlink, group-writable,
// owned by another user, tampered with, or naming a recycled pid; a container dir or root
// another user could have written; a user aiming the front at root's state. The front must never
// act on any of them: each call goes to bunrunc-core, which refuses (its one line) or acts on
// the real state.json; the victim lives.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { alive, call, execs, Rig, SKIP, startTimeOf, STRACE_SKIP } from "./rig.ts";
import { makeTestUser, SKIP_REASON as USER_SKIP, userFront } from "../rootless/user.ts";

const rigs: Rig[] = [];
const victims: ReturnType<typeof Bun.spawn>[] = [];
afterAll(() => rigs.forEach((r) => r.cleanup()));
afterEach(() => {
  for (const v of victims.splice(0)) {
    v.kill(9);
  }
});
const t = SKIP ? test.skip : test;

/** A process of ours a forged record points at: it must outlive every call below. */
function victim(): { pid: number; startTime: bigint } {
  const p = Bun.spawn(["sleep", "1000"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  victims.push(p);
  // /proc/PID/stat's start time is final once it exists; wait for the exec so comm is settled.
  for (let i = 0; i < 200 && !readFileSync(`/proc/${p.pid}/cmdline`, "latin1").startsWith("sleep"); i++) Bun.sleepSync(5);
  return { pid: p.pid, startTime: startTimeOf(p.pid) };
}

/** The container's own record with the victim's pid and start time put in. */
function forged(rig: Rig, id: string, v: { pid: number; startTime: bigint }): Buffer {
  const bytes = readFileSync(join(rig.root, id, "fast-verbs"));
  bytes.writeInt32LE(v.pid, 12);
  bytes.writeBigUInt64LE(v.startTime, 16);
  return bytes;
}

/** A running container whose record now names a victim (planted by `plant`); then `kill KILL`. */
function attack(plant: (record: string, bytes: Buffer, rig: Rig) => void): { victimAlive: boolean; kill: { code: number; stderr: string }; initAlive: boolean; core: { code: number; stderr: string } } {
  const rig = new Rig();
  rigs.push(rig);
  const id = rig.make("running");
  const twin = rig.make("running");
  const init = rig.saved(id).pid;
  const v = victim();
  plant(join(rig.root, id, "fast-verbs"), forged(rig, id, v), rig);
  const r = call(["--root", rig.root, "kill", id, "KILL"]);
  // What bunrunc-core alone says of the same call on an untouched twin (exit code and line).
  const c = call(["--root", rig.root, "kill", twin, "KILL"], false);
  for (let i = 0; i < 300 && alive(init); i++) Bun.sleepSync(10);
  return { victimAlive: alive(v.pid), kill: { code: r.code, stderr: r.stderr }, initAlive: alive(init), core: { code: c.code, stderr: c.stderr } };
}

describe(`a forged record never makes the front signal its victim${SKIP}`, () => {
  const cases: [string, (record: string, bytes: Buffer, rig: Rig) => void][] = [
    ["the record is a symlink to the forgery", (record, bytes, rig) => {
      const elsewhere = join(rig.b.dir, "forged-record");
      writeFileSync(elsewhere, bytes, { mode: 0o600 });
      unlinkSync(record);
      symlinkSync(elsewhere, record);
    }],
    ["the forgery is group-writable", (record, bytes) => {
      writeFileSync(record, bytes);
      chmodSync(record, 0o620);
    }],
    ["the forgery is writable by others", (record, bytes) => {
      writeFileSync(record, bytes);
      chmodSync(record, 0o602);
    }],
    ["the forgery is owned by another user", (record, bytes) => {
      writeFileSync(record, bytes);
      chownSync(record, 65534, 65534);
    }],
    ["the forgery's start time is not the victim's (a recycled pid)", (record, bytes) => {
      bytes.writeBigUInt64LE(bytes.readBigUInt64LE(16) + 1n, 16);
      writeFileSync(record, bytes);
    }],
    ["the forgery has a bad magic", (record, bytes) => writeFileSync(record, Buffer.concat([Buffer.from("XXXX"), bytes.subarray(4)]))],
    ["the forgery's size field is wrong", (record, bytes) => {
      bytes.writeUInt32LE(bytes.length + 1, 8);
      writeFileSync(record, bytes);
    }],
    ["the forgery is cut short", (record, bytes) => writeFileSync(record, bytes.subarray(0, bytes.length - 3))],
    ["the forgery has a cgroup version 3", (record, bytes) => {
      bytes.writeUInt8(3, 24);
      writeFileSync(record, bytes);
    }],
    ["the forgery has a string running past its end", (record, bytes) => {
      bytes.writeUInt16LE(0xffff, 32);
      writeFileSync(record, bytes);
    }],
  ];
  for (const [name, plant] of cases) {
    t(`${name}: bunrunc-core kills the real init instead`, () => {
      const r = attack(plant);
      expect(r).toEqual({ victimAlive: true, kill: { code: 0, stderr: "" }, initAlive: false, core: { code: 0, stderr: "" } });
    });
  }

  t("control: the same forgery planted as the real record would be obeyed (the attack above is real)", () => {
    const r = attack((record, bytes) => writeFileSync(record, bytes));
    expect(r.victimAlive).toBe(false);
    expect(r.initAlive).toBe(true);
  });
});

describe(`state another user could have written goes to bunrunc-core's refusal${SKIP}`, () => {
  type Spoil = (rig: Rig, id: string) => void;
  /** A created container, `spoil` applied; start on the front and on bunrunc-core; then `mend` (so cleanup can delete it). */
  const refused = (spoil: Spoil, mend: Spoil) => {
    const rig = new Rig();
    rigs.push(rig);
    const id = rig.make("created");
    spoil(rig, id);
    try {
      const fast = call(["--root", rig.root, "start", id]);
      const core = call(["--root", rig.root, "start", id], false);
      const norm = (r: { code: number; stdout: string; stderr: string }) => ({ ...r, stderr: r.stderr.replace(/time="[^"]*"/g, 'time="T"') });
      return { fast: norm(fast), core: norm(core), fifo: existsSync(join(rig.root, id, "exec.fifo")) };
    } finally {
      mend(rig, id);
    }
  };
  const moved = (rig: Rig) => join(rig.b.dir, "moved");
  const cases: [string, Spoil, Spoil, RegExp][] = [
    [
      "the container dir is a symlink",
      (rig, id) => {
        renameSync(join(rig.root, id), moved(rig));
        symlinkSync(moved(rig), join(rig.root, id));
      },
      (rig, id) => {
        unlinkSync(join(rig.root, id));
        renameSync(moved(rig), join(rig.root, id));
      },
      /is a symbolic link/,
    ],
    ["the root is group-writable", (rig) => chmodSync(rig.root, 0o775), (rig) => chmodSync(rig.root, 0o755), /writable by group/],
    ["the container dir is writable by others", (rig, id) => chmodSync(join(rig.root, id), 0o713), (rig, id) => chmodSync(join(rig.root, id), 0o711), /writable by others/],
  ];
  for (const [name, spoil, mend, why] of cases) {
    t(`${name}: refused, the container not started`, () => {
      const r = refused(spoil, mend);
      expect(r.fast.code).toBe(1);
      expect(r.fast.stderr).toMatch(why);
      // The front's refusal is bunrunc-core's, word for word.
      expect(r.fast).toEqual(r.core);
      expect(r.fifo).toBe(true);
    });
  }
});

describe(`a user cannot aim the front at root's state${SKIP}${USER_SKIP ? ` [skipped: ${USER_SKIP}]` : ""}`, () => {
  (SKIP || USER_SKIP ? test.skip : test)("state, kill and delete of root's container from root's --root: refused, the init untouched", () => {
    const rig = new Rig();
    rigs.push(rig);
    const id = rig.make("running");
    const init = rig.saved(id).pid;
    // Let the user reach root's root (traverse only), as /run/bunrunc is, and read the record
    // (still trusted: not writable by others): only the front's own-root rule stands in the way.
    chmodSync(rig.b.dir, 0o711);
    chmodSync(join(rig.root, id), 0o755);
    chmodSync(join(rig.root, id, "fast-verbs"), 0o644);
    const user = makeTestUser();
    try {
      const front = userFront(user);
      const as = (args: string[]) => user.run([front, "--root", rig.root, ...args], { env: user.env({ BUNRUNC_SERVER: "off" }) });
      for (const args of [["state", id], ["kill", id, "KILL"], ["delete", "--force", id]]) {
        const r = as(args);
        expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: "" });
        expect(r.stderr).toMatch(/refusing untrusted state|permission denied/);
      }
      expect(alive(init)).toBe(true);
      expect(rig.status(id)).toBe("running");
    } finally {
      user.remove();
    }
  });
});

describe(`a tampered record is simply not used${SKIP}${STRACE_SKIP}`, () => {
  (SKIP || STRACE_SKIP ? test.skip : test)("state with a cut record: bunrunc-core answers, the same bytes as with none", () => {
    const rig = new Rig();
    rigs.push(rig);
    const id = rig.make("running");
    const record = join(rig.root, id, "fast-verbs");
    const before = call(["--root", rig.root, "state", id]);
    writeFileSync(record, readFileSync(record).subarray(0, 40));
    expect(execs(["--root", rig.root, "state", id]).core).toBe(true);
    expect(call(["--root", rig.root, "state", id])).toEqual(before);
  });
});
