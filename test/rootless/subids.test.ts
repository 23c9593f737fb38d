// A user with subordinate ids (useradd's default 65536-id ranges in /etc/subuid and /etc/subgid):
// a mapping beyond its own id goes through newuidmap/newgidmap, the container sees the ranges,
// setgroups stays allowed, and files its processes make in a bind mount belong on the host to the
// ids those tools mapped.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestUser, mountsUnder, SKIP_REASON, userBundle, type TestUser } from "./user.ts";

setDefaultTimeout(60_000);
const haveTools = Bun.which("newuidmap") !== null && Bun.which("newgidmap") !== null;
const skip = SKIP_REASON || (haveTools ? "" : "needs newuidmap/newgidmap (package uidmap; scripts/setup.sh installs it)");
const suite = skip ? describe.skip : describe;

const CONTAINER_UID = 1000;
const EXTRA_GID = 2000;

suite(`rootless with subordinate ids${skip ? ` [skipped: ${skip}]` : ""}`, () => {
  let user: TestUser;
  let bundle: string;
  let vol: string;
  beforeAll(() => {
    user = makeTestUser({ subIds: true });
    ({ bundle } = userBundle(user));
    vol = join(user.home, "vol");
    mkdirSync(vol);
    chownSync(vol, user.uid, user.gid);
    chmodSync(vol, 0o1777); // the container's uid 1000 writes here too
    expect(user.bunrunc(["spec", "--rootless"], { cwd: bundle }).code).toBe(0);
  });
  afterAll(() => user?.remove());

  function configure(args: string[], processUser: Record<string, unknown>): void {
    const path = join(bundle, "config.json");
    const c = JSON.parse(readFileSync(path, "utf8"));
    c.process.terminal = false;
    c.process.args = args;
    c.process.user = processUser;
    c.linux.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: user.subuid!.start, size: user.subuid!.count }];
    c.linux.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: user.subgid!.start, size: user.subgid!.count }];
    c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== "/vol");
    c.mounts.push({ destination: "/vol", type: "bind", source: vol, options: ["rbind"] });
    writeFileSync(path, JSON.stringify(c, null, 2));
    user.give(path);
  }

  test("the user has ranges of its own (useradd made them)", () => {
    expect(user.subuid?.count).toBeGreaterThan(CONTAINER_UID);
    expect(user.subgid?.count).toBeGreaterThan(EXTRA_GID);
  });

  test("id and the maps inside show the mapped ranges; setgroups is allowed (additionalGids applied)", () => {
    configure(["sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups"], { uid: CONTAINER_UID, gid: CONTAINER_UID, additionalGids: [EXTRA_GID] });
    const r = user.bunrunc(["run", `ids-${process.pid}`], { cwd: bundle });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    expect(lines).toEqual([
      `uid=${CONTAINER_UID} gid=${CONTAINER_UID} groups=${EXTRA_GID}`,
      `0 ${user.uid} 1`,
      `1 ${user.subuid!.start} ${user.subuid!.count}`,
      `0 ${user.gid} 1`,
      `1 ${user.subgid!.start} ${user.subgid!.count}`,
      "allow",
    ]);
  });

  test("files made in a bind mount belong on the host to the ids newuidmap/newgidmap mapped", () => {
    configure(["sh", "-c", "touch /vol/by-1000"], { uid: CONTAINER_UID, gid: CONTAINER_UID });
    expect(user.bunrunc(["run", `vol-${process.pid}`], { cwd: bundle })).toMatchObject({ code: 0, stderr: "" });
    configure(["touch", "/vol/by-1"], { uid: 1, gid: 2 });
    expect(user.bunrunc(["run", `vol1-${process.pid}`], { cwd: bundle })).toMatchObject({ code: 0, stderr: "" });
    configure(["touch", "/vol/by-root"], { uid: 0, gid: 0 });
    expect(user.bunrunc(["run", `vol2-${process.pid}`], { cwd: bundle })).toMatchObject({ code: 0, stderr: "" });
    const owner = (f: string) => {
      const st = statSync(join(vol, f));
      return [st.uid, st.gid];
    };
    // Container uid N >= 1 is subordinate id start + N - 1; container root is the user itself.
    expect(owner("by-1000")).toEqual([user.subuid!.start + CONTAINER_UID - 1, user.subgid!.start + CONTAINER_UID - 1]);
    expect(owner("by-root")).toEqual([user.uid, user.gid]);
    expect(owner("by-1")).toEqual([user.subuid!.start, user.subgid!.start + 1]);
  });

  test("ids beyond its ranges fail in one line naming them, and nothing is made", () => {
    configure(["true"], { uid: 0, gid: 0 });
    const path = join(bundle, "config.json");
    const c = JSON.parse(readFileSync(path, "utf8"));
    c.linux.gidMappings[1].size = user.subgid!.count + 1;
    writeFileSync(path, JSON.stringify(c));
    const before = readdirSync(join(user.runtimeDir, "bunrunc"));
    const r = user.bunrunc(["run", `beyond-${process.pid}`], { cwd: bundle });
    expect(r.code).toBe(1);
    const last = user.subgid!.start + user.subgid!.count;
    expect(r.stderr).toContain(`linux.gidMappings[1]: host gids ${user.subgid!.start}-${last} are not among user ${user.name} (uid ${user.uid})'s subordinate gids in /etc/subgid (${user.subgid!.start}-${last - 1})`);
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(readdirSync(join(user.runtimeDir, "bunrunc"))).toEqual(before);
    expect(existsSync(join(user.runtimeDir, "bunrunc", `beyond-${process.pid}`))).toBe(false);
  });

  test("nothing is left: no state dir, no mount, no process of the user or its subordinate ids", () => {
    expect(readdirSync(join(user.runtimeDir, "bunrunc")).filter((e) => !e.startsWith("."))).toEqual([]);
    expect(mountsUnder(user.dir)).toEqual([]);
    expect(user.processes()).toEqual([]);
  });
});
