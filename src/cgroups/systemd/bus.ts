// A short-lived connection to systemd's manager over D-Bus (libsystemd's sd-bus through
// src/ffi.ts): values appended by their D-Bus signature, manager method calls, a unit's state,
// and waiting for a job to finish (its JobRemoved signal). One connection per verb call.
import { sdbus, SdBusError } from "../../ffi-sdbus.ts";

/** A D-Bus value: basic types as JS values, "ay" as bytes, arrays and structs as arrays. */
export type Value = string | number | bigint | boolean | Uint8Array | Value[] | Variant;
export interface Variant {
  sig: string;
  value: Value;
}

export { SdBusError };

const DEST = "org.freedesktop.systemd1";
const MANAGER_PATH = "/org/freedesktop/systemd1";
export const MANAGER = "org.freedesktop.systemd1.Manager";
const UNIT = "org.freedesktop.systemd1.Unit";
const PROPERTIES = "org.freedesktop.DBus.Properties";
/** systemd's own socket: no broker in between; what systemctl uses as root. */
const PRIVATE_SOCKET = "unix:path=/run/systemd/private";
const CALL_TIMEOUT_US = 30_000_000;
const CONNECT_ATTEMPTS = 30;
const CONNECT_RETRY_MS = 100;
const JOB_REMOVED_RULE = `type='signal',sender='${DEST}',path='${MANAGER_PATH}',interface='${MANAGER}',member='JobRemoved'`;

/** "sa(sv)a(sa(sv))" -> ["s", "a(sv)", "a(sa(sv))"]: a signature's complete types. */
export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < sig.length) {
    const start = i;
    while (sig[i] === "a") i++;
    if (sig[i] === "(" || sig[i] === "{") {
      let depth = 0;
      do {
        if (sig[i] === "(" || sig[i] === "{") depth++;
        else if (sig[i] === ")" || sig[i] === "}") depth--;
        i++;
      } while (depth > 0 && i < sig.length);
      if (depth !== 0) throw new Error(`unbalanced D-Bus signature ${sig}`);
    } else i++;
    out.push(sig.slice(start, i));
  }
  return out;
}

function append(m: number, sig: string, v: Value): void {
  if (sig === "ay") return sdbus.appendArray(m, "y", v as Uint8Array);
  if (sig === "v") {
    const { sig: inner, value } = v as Variant;
    sdbus.openContainer(m, "v", inner);
    append(m, inner, value);
    return sdbus.closeContainer(m);
  }
  if (sig[0] === "a") {
    const elem = sig.slice(1);
    sdbus.openContainer(m, "a", elem);
    for (const e of v as Value[]) append(m, elem, e);
    return sdbus.closeContainer(m);
  }
  if (sig[0] === "(") {
    const inner = sig.slice(1, -1);
    sdbus.openContainer(m, "r", inner);
    splitSignature(inner).forEach((t, i) => append(m, t, (v as Value[])[i]!));
    return sdbus.closeContainer(m);
  }
  sdbus.appendBasic(m, sig, v as string | number | bigint | boolean);
}

export class SystemdBus {
  private constructor(private bus: number) {}

  /**
   * As root, systemd's private socket first (no dbus-daemon needed), then the system bus. While
   * systemd re-executes (daemon-reexec) neither answers for a moment: retried for a few seconds.
   */
  static connect(): SystemdBus {
    for (let attempt = 1; ; attempt++) {
      if (process.geteuid?.() === 0) {
        try {
          return new SystemdBus(sdbus.open(PRIVATE_SOCKET));
        } catch {}
      }
      try {
        return new SystemdBus(sdbus.open());
      } catch (e) {
        if (attempt >= CONNECT_ATTEMPTS) throw e;
        Bun.sleepSync(CONNECT_RETRY_MS);
      }
    }
  }

  close(): void {
    if (this.bus) sdbus.close(this.bus);
    this.bus = 0;
  }

  /** Calls `member` with `args` ([signature, value] each); the reply for the caller to read and unref. */
  call(path: string, iface: string, member: string, args: [string, Value][]): number {
    const m = sdbus.methodCall(this.bus, DEST, path, iface, member);
    try {
      for (const [sig, v] of args) append(m, sig, v);
    } catch (e) {
      sdbus.unref(m);
      throw e;
    }
    return sdbus.call(this.bus, m, CALL_TIMEOUT_US);
  }

  /** A manager method whose reply is ignored (SetUnitProperties, ResetFailedUnit). */
  manager(member: string, args: [string, Value][]): void {
    sdbus.unref(this.call(MANAGER_PATH, MANAGER, member, args));
  }

  /** A manager method whose reply is one object path (a job: StartTransientUnit, StopUnit; a unit: GetUnit). */
  managerPath(member: string, args: [string, Value][]): string {
    const reply = this.call(MANAGER_PATH, MANAGER, member, args);
    try {
      return sdbus.readString(reply, "o");
    } finally {
      sdbus.unref(reply);
    }
  }

  /** A unit's ActiveState ("active", "failed", ...), or null when systemd has no such unit loaded. */
  activeState(unit: string): string | null {
    return this.unitProperty(unit, "ActiveState", "s", (reply) => sdbus.readString(reply, "s"));
  }

  /**
   * The unit's InvocationID (systemd gives each start of a unit a new one), as 32 hex digits; null
   * when systemd has no such unit loaded or it has none (not started).
   */
  invocationId(unit: string): string | null {
    const id = this.unitProperty(unit, "InvocationID", "ay", (reply) => Buffer.from(sdbus.readBytes(reply)).toString("hex"));
    return id === null || /^0*$/.test(id) ? null : id;
  }

  /** One org.freedesktop.systemd1.Unit property of a loaded unit, read by `read`; null when systemd has no such unit loaded. */
  private unitProperty<T>(unit: string, name: string, signature: string, read: (reply: number) => T): T | null {
    let path: string;
    try {
      path = this.managerPath("GetUnit", [["s", unit]]);
    } catch (e) {
      if (e instanceof SdBusError && e.busName.endsWith(".NoSuchUnit")) return null;
      throw e;
    }
    const reply = this.call(path, PROPERTIES, "Get", [["s", UNIT], ["s", name]]);
    try {
      sdbus.enterContainer(reply, "v", signature);
      return read(reply);
    } finally {
      sdbus.unref(reply);
    }
  }

  /** Asks to be told when jobs finish; before the call that makes the job, so none is missed. */
  watchJobs(): void {
    sdbus.addMatch(this.bus, JOB_REMOVED_RULE);
  }

  /** Waits for JobRemoved of `job`: its result ("done", "failed", "canceled", "timeout", ...). */
  waitJob(job: string, timeoutMs: number): string {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const { more, message } = sdbus.process(this.bus);
      if (message) {
        try {
          if (sdbus.isSignal(message, MANAGER, "JobRemoved")) {
            sdbus.readU32(message);
            const path = sdbus.readString(message, "o");
            sdbus.readString(message, "s");
            const result = sdbus.readString(message, "s");
            if (path === job) return result;
          }
        } finally {
          sdbus.unref(message);
        }
      }
      if (more) continue;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for systemd job ${job}`);
      sdbus.wait(this.bus, Math.ceil(left * 1000));
    }
  }
}
