// Terminal calls through the FFI boundary (src/ffi.ts holds the one dlopen table): a new pty, the
// window size, raw mode and back. Used by the foreground relay (src/lib/tty.ts) and restore.
import { boundary } from "./ffi.ts";

const { lib: load, ok, cstr, ptr } = boundary;

/** A new pty from `ptmx`: master and slave fds (close-on-exec) and its number. */
export function openPty(ptmx: string): { master: number; slave: number; number: number } {
  const out = new Int32Array(3);
  ok(load().bunrunc_open_pty(ptr(cstr(ptmx)), ptr(out)), `open a pty from ${ptmx}`);
  return { master: out[0]!, slave: out[1]!, number: out[2]! };
}

export function getWinsize(fd: number): { rows: number; cols: number } {
  const out = new Uint16Array(2);
  ok(load().bunrunc_get_winsize(fd, ptr(out)), "TIOCGWINSZ");
  return { rows: out[0]!, cols: out[1]! };
}

export function setWinsize(fd: number, rows: number, cols: number): void {
  ok(load().bunrunc_set_winsize(fd, rows, cols), "TIOCSWINSZ");
}

const SAVED_TERMIOS_SIZE = 64;

/** Raw mode on the terminal at fd; returns the settings restoreTty puts back. */
export function makeRaw(fd: number): Uint8Array {
  const saved = new Uint8Array(SAVED_TERMIOS_SIZE);
  ok(load().bunrunc_tty_raw(fd, ptr(saved)), "set the terminal to raw mode");
  return saved;
}

export function restoreTty(fd: number, saved: Uint8Array): void {
  ok(load().bunrunc_tty_restore(fd, ptr(saved)), "restore the terminal");
}
