// The systemd cgroup driver for one container (--systemd-cgroup, cgroupsPath "slice:prefix:name"):
// systemd owns the container's cgroup as a transient scope, started around the init while it is
// parked at its first stop; the limits systemd knows go to it as unit properties, and then
// everything is written as cgroupfs inside the scope too (runc's order), so what systemd cannot
// say still applies. On cgroup v1 the hierarchies systemd does not manage get the same path,
// made and joined here (runc's v1 systemd path). pause, ps, events and kill --all need nothing
// from systemd: they work on the scope's cgroup directories like any other.
import { CgroupManager } from "../manager.ts";
import { systemdUnit, type ResolveOptions } from "../paths.ts";
import { CgroupError, type ApplyContext, type Resources } from "../types.ts";
import { resourceProperties, scopeProperties, updateProperties, type Property } from "./properties.ts";
import { setScopeProperties, startScope, stopScope } from "./scope.ts";

const FLAG = "--systemd-cgroup";

function failed(what: string, e: unknown): CgroupError {
  if (e instanceof CgroupError) return e;
  return new CgroupError(FLAG, `${what}: ${(e as Error).message}`);
}

export class SystemdCgroup {
  private stopped = false;
  /** The unit is ours: started by this driver (or, loaded from a state, recorded as ours). */
  owned: boolean;
  /** The InvocationID of our start of the unit (recorded in the state): stop() stops only that one. */
  invocationId: string | undefined;

  constructor(
    readonly unit: string,
    readonly slice: string,
    readonly mgr: CgroupManager,
    owned = false,
    invocationId?: string,
  ) {
    this.owned = owned;
    this.invocationId = invocationId;
  }

  /** Resolves the unit and the scope's cgroup directories; an error where systemd does not run. */
  static forContainer(id: string, cgroupsPath: string | undefined, opts: ResolveOptions = {}): SystemdCgroup {
    const { slice, unit } = systemdUnit(id, cgroupsPath);
    if (!unit.endsWith(".scope")) throw new CgroupError("linux.cgroupsPath", `${unit}: a slice as the container's own unit is not supported; name a scope ("slice:prefix:name")`);
    return new SystemdCgroup(unit, slice, CgroupManager.forContainer(id, cgroupsPath, { ...opts, systemd: true }));
  }

  /** For an existing container, from what its state recorded (a state from before InvocationIDs were recorded has none). */
  static load(unit: string, mgr: CgroupManager, invocationId?: string): SystemdCgroup {
    return new SystemdCgroup(unit, "", mgr, true, invocationId);
  }

  get version(): 1 | 2 {
    return this.mgr.version;
  }

  /** The resource properties for `r`, computed before anything is made: bad limits fail first. */
  properties(r: Resources, warn?: (m: string) => void): Property[] {
    return resourceProperties(this.version, r, { devices: true, warn });
  }

  /** Starts the scope with `pid` in it and applies `r`: `resourceProps` (this.properties(r)), then cgroupfs. */
  start(pid: number, id: string, r: Resources, resourceProps: Property[]): void {
    const props = [...scopeProperties(this.version, { slice: this.slice, pid, description: `bunrunc container ${id}` }), ...resourceProps];
    try {
      this.invocationId = startScope(this.unit, props, () => (this.owned = true)) ?? undefined;
    } catch (e) {
      throw failed(`start unit ${this.unit}`, e);
    }
    if (this.version === 1) {
      // systemd made the scope in the hierarchies it manages; the others get the same path.
      this.mgr.create();
      this.mgr.addProcess(pid);
    }
    this.mgr.apply(r);
  }

  /**
   * `update`: systemd gets the properties of what the delta sets, with the recorded values a
   * property needs beside it (swap needs the memory limit, a quota its period and the other way
   * round); devices are left alone. Then the delta is written as cgroupfs.
   */
  update(merged: Resources, delta: Resources, ctx: ApplyContext = { update: true }): void {
    const props = updateProperties(this.version, delta, merged);
    try {
      setScopeProperties(this.unit, props);
    } catch (e) {
      throw failed(`set properties of ${this.unit}`, e);
    }
    this.mgr.apply(delta, ctx);
  }

  /**
   * Stops the unit (systemd removes its cgroup); once, however often the caller retries. false:
   * a unit of that name with another InvocationID is there, started by someone else since ours
   * went — left alone, and so is its cgroup (the same directories as ours were).
   */
  stop(): boolean {
    if (this.stopped || !this.owned) return true;
    let outcome;
    try {
      outcome = stopScope(this.unit, this.invocationId);
    } catch (e) {
      throw failed(`stop unit ${this.unit}`, e);
    }
    this.stopped = true;
    if (outcome !== "another") return true;
    this.owned = false;
    return false;
  }
}

