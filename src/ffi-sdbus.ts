// libsystemd's sd-bus as the systemd cgroup driver uses it (src/cgroups/systemd/bus.ts): a call
// family through the one FFI boundary (src/ffi.ts opens it: the one
// bun:ffi import), the table below opened on first use.
import { boundary } from "./ffi.ts";
import { strerror } from "./base/errno.ts";

const { cstr, ptr, openHostLibrary, cstring, bytesAt } = boundary;

// Loaded at run time from the host (every systemd host has libsystemd.so.0), and only by a call
// that uses --systemd-cgroup. Only the non-variadic builders and readers: bun:ffi cannot call
// C variadics (sd_bus_message_append, sd_bus_call_method) reliably.
const sdSymbols = {
  sd_bus_new: { args: ["ptr"], returns: "i32" },
  sd_bus_set_address: { args: ["ptr", "ptr"], returns: "i32" },
  sd_bus_start: { args: ["ptr"], returns: "i32" },
  sd_bus_open_system: { args: ["ptr"], returns: "i32" },
  sd_bus_flush_close_unref: { args: ["ptr"], returns: "ptr" },
  sd_bus_message_new_method_call: { args: ["ptr", "ptr", "ptr", "ptr", "ptr", "ptr"], returns: "i32" },
  sd_bus_message_append_basic: { args: ["ptr", "i8", "ptr"], returns: "i32" },
  sd_bus_message_append_array: { args: ["ptr", "i8", "ptr", "u64"], returns: "i32" },
  sd_bus_message_open_container: { args: ["ptr", "i8", "ptr"], returns: "i32" },
  sd_bus_message_close_container: { args: ["ptr"], returns: "i32" },
  sd_bus_message_enter_container: { args: ["ptr", "i8", "ptr"], returns: "i32" },
  sd_bus_message_exit_container: { args: ["ptr"], returns: "i32" },
  sd_bus_message_read_basic: { args: ["ptr", "i8", "ptr"], returns: "i32" },
  sd_bus_message_read_array: { args: ["ptr", "i8", "ptr", "ptr"], returns: "i32" },
  sd_bus_message_is_signal: { args: ["ptr", "ptr", "ptr"], returns: "i32" },
  sd_bus_message_unref: { args: ["ptr"], returns: "ptr" },
  sd_bus_call: { args: ["ptr", "ptr", "u64", "ptr", "ptr"], returns: "i32" },
  sd_bus_add_match: { args: ["ptr", "ptr", "ptr", "ptr", "ptr"], returns: "i32" },
  sd_bus_process: { args: ["ptr", "ptr"], returns: "i32" },
  sd_bus_wait: { args: ["ptr", "u64"], returns: "i32" },
  sd_bus_error_free: { args: ["ptr"], returns: "void" },
} as const;

let sd: ReturnType<typeof openHostLibrary<typeof sdSymbols>> | undefined;
const sdLib = () => (sd ??= openHostLibrary("libsystemd.so.0", sdSymbols));

/** A D-Bus error reply (name + text), or a local failure (name "", the errno's text). */
export class SdBusError extends Error {
  constructor(
    readonly errno: number,
    readonly busName: string,
    text: string,
  ) {
    super(busName ? `${busName}: ${text}` : text);
  }
}

const handleOut = () => new BigUint64Array(1);
const handle = (out: BigUint64Array) => Number(out[0]!);
/** A handle (sd_bus *, sd_bus_message *) as bun:ffi takes a pointer. */
const H = (h: number) => h as unknown as ReturnType<typeof ptr>;
const code = (c: string) => c.charCodeAt(0);

function sdOk(rc: number, what: string): number {
  if (rc < 0) throw new SdBusError(-rc, "", `${what}: ${strerror(-rc)}`);
  return rc;
}

/** sd-bus as the driver uses it: handles are plain numbers; every failure throws SdBusError. */
export const sdbus = {
  /** A started connection: to `address` ("unix:path=..."), or the system bus when absent. */
  open(address?: string): number {
    const l = sdLib();
    const out = handleOut();
    if (!address) {
      sdOk(l.sd_bus_open_system(ptr(out)), "connect to the system bus");
      return handle(out);
    }
    sdOk(l.sd_bus_new(ptr(out)), "sd_bus_new");
    const bus = handle(out);
    try {
      sdOk(l.sd_bus_set_address(H(bus), ptr(cstr(address))), `connect to ${address}`);
      sdOk(l.sd_bus_start(H(bus)), `connect to ${address}`);
    } catch (e) {
      l.sd_bus_flush_close_unref(H(bus));
      throw e;
    }
    return bus;
  },
  close(bus: number): void {
    sdLib().sd_bus_flush_close_unref(H(bus));
  },
  methodCall(bus: number, dest: string, path: string, iface: string, member: string): number {
    const out = handleOut();
    sdOk(sdLib().sd_bus_message_new_method_call(H(bus), ptr(out), ptr(cstr(dest)), ptr(cstr(path)), ptr(cstr(iface)), ptr(cstr(member))), `new call ${member}`);
    return handle(out);
  },
  /** One basic value: "s"/"o"/"g" strings, "b"/"i"/"u" 32-bit, "t"/"x" 64-bit, "y" a byte. */
  appendBasic(m: number, type: string, v: string | number | bigint | boolean): void {
    let p: ReturnType<typeof ptr>;
    if (type === "s" || type === "o" || type === "g") p = ptr(cstr(String(v)));
    else if (type === "t" || type === "x") p = ptr(new BigUint64Array([BigInt.asUintN(64, BigInt(v as number | bigint))]));
    else if (type === "y") p = ptr(new Uint8Array([Number(v)]));
    else p = ptr(new Uint32Array([Number(typeof v === "boolean" ? (v ? 1 : 0) : v) >>> 0]));
    sdOk(sdLib().sd_bus_message_append_basic(H(m), code(type), p), `append ${type}`);
  },
  /** An array of fixed-size elements in one go ("ay" bytes). */
  appendArray(m: number, type: string, bytes: Uint8Array): void {
    sdOk(sdLib().sd_bus_message_append_array(H(m), code(type), ptr(bytes.length ? bytes : new Uint8Array(1)), bytes.length), `append a${type}`);
  },
  openContainer(m: number, type: string, contents: string): void {
    sdOk(sdLib().sd_bus_message_open_container(H(m), code(type), ptr(cstr(contents))), `open ${type}${contents}`);
  },
  closeContainer(m: number): void {
    sdOk(sdLib().sd_bus_message_close_container(H(m)), "close a container");
  },
  /** Enters a container of the reply; false at its end. */
  enterContainer(m: number, type: string, contents: string): boolean {
    return sdOk(sdLib().sd_bus_message_enter_container(H(m), code(type), ptr(cstr(contents))), `read ${type}${contents}`) > 0;
  },
  exitContainer(m: number): void {
    sdOk(sdLib().sd_bus_message_exit_container(H(m)), "leave a container");
  },
  /** The next basic value of a message: strings as strings, "u" as a number. */
  readString(m: number, type: "s" | "o"): string {
    const out = handleOut();
    sdOk(sdLib().sd_bus_message_read_basic(H(m), code(type), ptr(out)), `read ${type}`);
    return cstring(handle(out));
  },
  /** The next array of fixed-size elements of a message ("ay": bytes), copied out. */
  readBytes(m: number): Uint8Array {
    const at = handleOut();
    const size = new BigUint64Array(1);
    sdOk(sdLib().sd_bus_message_read_array(H(m), code("y"), ptr(at), ptr(size)), "read ay");
    const n = Number(size[0]!);
    if (n === 0) return new Uint8Array(0);
    return new Uint8Array(bytesAt(handle(at), n).slice(0));
  },
  readU32(m: number): number {
    const out = new Uint32Array(1);
    sdOk(sdLib().sd_bus_message_read_basic(H(m), code("u"), ptr(out)), "read u");
    return out[0]!;
  },
  isSignal(m: number, iface: string, member: string): boolean {
    return sdLib().sd_bus_message_is_signal(H(m), ptr(cstr(iface)), ptr(cstr(member))) > 0;
  },
  unref(m: number): void {
    if (m) sdLib().sd_bus_message_unref(H(m));
  },
  /** Sends `m` (consumed) and waits for the reply; an error reply throws with its D-Bus name. */
  call(bus: number, m: number, timeoutUs: number): number {
    const l = sdLib();
    const err = new BigUint64Array(3);
    const out = handleOut();
    try {
      const rc = l.sd_bus_call(H(bus), H(m), BigInt(timeoutUs), ptr(err), ptr(out));
      if (rc < 0) {
        const name = err[0] ? cstring(Number(err[0])) : "";
        const text = err[1] ? cstring(Number(err[1])) : strerror(-rc);
        throw new SdBusError(-rc, name, text);
      }
      return handle(out);
    } finally {
      l.sd_bus_error_free(ptr(err));
      l.sd_bus_message_unref(H(m));
    }
  },
  /** A match rule with no callback: matching messages come back from process(). */
  addMatch(bus: number, rule: string): void {
    sdOk(sdLib().sd_bus_add_match(H(bus), null, ptr(cstr(rule)), null, null), "add a match");
  },
  /** One step of the connection: whether more is queued, and an unhandled message (or 0). */
  process(bus: number): { more: boolean; message: number } {
    const out = handleOut();
    const rc = sdOk(sdLib().sd_bus_process(H(bus), ptr(out)), "read from the bus");
    return { more: rc > 0, message: handle(out) };
  },
  wait(bus: number, timeoutUs: number): void {
    sdOk(sdLib().sd_bus_wait(H(bus), BigInt(timeoutUs)), "wait on the bus");
  },
};
