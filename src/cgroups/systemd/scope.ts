// A transient scope unit through systemd's manager: start it around a process (and wait for
// its job), change its properties, stop it (and wait). Each call opens its own connection.
import { SdBusError, SystemdBus, type Value } from "./bus.ts";
import type { Property } from "./properties.ts";
import { phase } from "../../base/timing.ts";

/** How long systemd may take to finish a start or stop job (runc waits as long). */
const JOB_TIMEOUT_MS = 30_000;
const LIVE = new Set(["active", "activating", "reloading", "deactivating"]);

function withBus<T>(fn: (bus: SystemdBus) => T): T {
  const bus = SystemdBus.connect();
  try {
    return fn(bus);
  } finally {
    bus.close();
  }
}

const asArgs = (props: Property[]): Value[] => props.map(([name, sig, value]) => [name, { sig, value }]);

export function isBusError(e: unknown, name: string): boolean {
  return e instanceof SdBusError && e.busName === `org.freedesktop.systemd1.${name}`;
}

/**
 * StartTransientUnit(name, "replace", properties, no auxiliary units), waiting for the job.
 * `made()` is called once systemd has accepted the unit as ours (a job exists): before that, a
 * unit of that name is somebody else's and must not be touched. Returns the started unit's
 * InvocationID (stopScope stops the unit only while it still has it); null if systemd gave none.
 */
export function startScope(unit: string, properties: Property[], made: () => void): string | null {
  phase("systemd.before-connect");
  return withBus((bus) => {
    phase("systemd.connected");
    bus.watchJobs();
    const start = () => bus.managerPath("StartTransientUnit", [["s", unit], ["s", "replace"], ["a(sv)", asArgs(properties)], ["a(sa(sv))", []]]);
    let job: string;
    try {
      job = start();
    } catch (e) {
      if (!isBusError(e, "UnitExists")) throw e;
      // A failed unit of that name (an earlier container's) stays loaded until it is reset; a
      // live one belongs to another container.
      const state = bus.activeState(unit);
      if (state !== null && LIVE.has(state)) throw new Error(`systemd unit ${unit} already exists and is ${state}`);
      resetFailed(bus, unit);
      job = start();
    }
    made();
    phase("systemd.start-called");
    const result = bus.waitJob(job, JOB_TIMEOUT_MS);
    phase("systemd.job-done");
    if (result !== "done") throw new Error(`systemd could not start ${unit}: its job ended "${result}"`);
    return bus.invocationId(unit);
  });
}

/** SetUnitProperties(name, runtime: true, properties): lost at reboot, as the scope is. */
export function setScopeProperties(unit: string, properties: Property[]): void {
  if (!properties.length) return;
  withBus((bus) => bus.manager("SetUnitProperties", [["s", unit], ["b", true], ["a(sv)", asArgs(properties)]]));
}

/**
 * StopUnit(name, "replace"), waiting for the job; a unit systemd no longer has is stopped already.
 * With `invocationId` (what startScope returned) the unit is stopped only while it still has it:
 * a unit of that name started since (the scope emptied and went, and another took its name) is
 * another's. Returns whether the unit was ours to stop ("gone" when systemd no longer has it).
 */
export function stopScope(unit: string, invocationId?: string): "stopped" | "gone" | "another" {
  return withBus((bus) => {
    if (invocationId) {
      const now = bus.invocationId(unit);
      if (now === null) return "gone";
      if (now !== invocationId) return "another";
    }
    bus.watchJobs();
    let job: string;
    try {
      job = bus.managerPath("StopUnit", [["s", unit], ["s", "replace"]]);
    } catch (e) {
      if (isBusError(e, "NoSuchUnit")) return "gone";
      throw e;
    }
    const result = bus.waitJob(job, JOB_TIMEOUT_MS);
    if (result !== "done" && result !== "canceled") throw new Error(`systemd could not stop ${unit}: its job ended "${result}"`);
    resetFailed(bus, unit);
    return "stopped";
  });
}

/** ResetFailedUnit: a failed unit would otherwise keep its name taken. */
function resetFailed(bus: SystemdBus, unit: string): void {
  try {
    bus.manager("ResetFailedUnit", [["s", unit]]);
  } catch {} // not failed, or gone: nothing to reset
}

/** The unit's ActiveState, or null when systemd has no such unit. */
export function scopeState(unit: string): string | null {
  return withBus((bus) => bus.activeState(unit));
}
