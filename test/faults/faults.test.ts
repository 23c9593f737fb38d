// Death mid-call: bunrunc SIGKILLed at random instants of create, run -d, start and delete (or the
// moment a step of the call shows on the host: state dir, record, cgroup, init recorded, created,
// started; for delete: init, cgroup, state gone), then `delete --force` must succeed and leave
// nothing: no state dir, no cgroup dir, no process, no mount (test/faults/rig.ts).
//
// Trial counts (defaults in brackets): BUNRUNC_FAULT_CORE_TRIALS [100] kill bunrunc-core running
// the call directly (BUNRUNC_SERVER=off), BUNRUNC_FAULT_FRONT_TRIALS [200] kill the front
// dist/bunrunc on the default path (served by the resident server), BUNRUNC_FAULT_SERVER_TRIALS
// [100] kill the resident server itself. Every trial prints nothing; each block prints a summary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { becomeSubreaper, calibrate, canRun, makeRig, reapAdopted, serverPids, SKIP, summary, trial, VERBS, type Outcome, type Rig } from "./rig.ts";

const count = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
};
const CORE_TRIALS = count("BUNRUNC_FAULT_CORE_TRIALS", 100);
const FRONT_TRIALS = count("BUNRUNC_FAULT_FRONT_TRIALS", 200);
const SERVER_TRIALS = count("BUNRUNC_FAULT_SERVER_TRIALS", 100);
const SERVED = "served by the resident server";

const rigs: Rig[] = [];
beforeAll(() => {
  if (canRun) becomeSubreaper();
});
afterAll(() => {
  reapAdopted();
  for (const r of rigs.splice(0)) r.bundle.cleanup();
});

/** Each verb in turn, so every verb gets a quarter of the trials. */
async function trials(rig: Rig, n: number, target?: () => number, before?: () => Promise<void>): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) {
    await before?.();
    out.push(await trial(rig, VERBS[i % VERBS.length]!, target));
  }
  return out;
}

function report(name: string, outcomes: Outcome[]): void {
  console.log(summary(name, outcomes));
  expect(outcomes.filter((o) => o.problems.length).map((o) => `${o.verb} ${o.when} (${o.left}): ${o.problems.join(" | ").slice(0, 300)}`)).toEqual([]);
  // Not a test that cannot fail by never killing anything mid-call.
  for (const v of VERBS) if (outcomes.some((o) => o.verb === v)) expect(outcomes.filter((o) => o.verb === v && o.killedMidCall).length).toBeGreaterThan(0);
}

describe.skipIf(!canRun)(`death mid-call${SKIP}`, () => {
  test(`${CORE_TRIALS} kills of bunrunc-core running the call directly: delete --force leaves nothing`, async () => {
    const rig = makeRig("core");
    rigs.push(rig);
    await calibrate(rig);
    report("core killed", await trials(rig, CORE_TRIALS));
  }, 600_000);

  test(`${FRONT_TRIALS} kills of the front (default path): delete --force leaves nothing`, async () => {
    const rig = makeRig("front");
    rigs.push(rig);
    await calibrate(rig);
    report("front killed", await trials(rig, FRONT_TRIALS));
  }, 600_000);
});

/** Calls until one is served: the first call after the server died starts one and runs directly. */
async function serverUp(rig: Rig): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await rig.call(["--debug", "state", "nothing-here"])).stderr.includes(SERVED) && serverPids().length) return;
    await Bun.sleep(20);
  }
  throw new Error("the resident server never answered");
}

// Killing the resident server mid-call is the front <-> server protocol's case (the front must
// never run again a call the server began); these trials hold once that protocol does.
describe.skipIf(!canRun)(`death of the resident server mid-call${SKIP}`, () => {
  test(`${SERVER_TRIALS} kills of the resident server: delete --force leaves nothing`, async () => {
    const rig = makeRig("server");
    rigs.push(rig);
    await serverUp(rig);
    await calibrate(rig);
    report("server killed", await trials(rig, SERVER_TRIALS, () => serverPids()[0] ?? 0, () => serverUp(rig)));
  }, 600_000);
});
