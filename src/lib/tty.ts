// The foreground terminal of `run`/`exec` with process.terminal and no --console-socket: bunrunc
// holds the pty master itself and relays between it and its own stdio. Our terminal goes raw,
// so every key (^C, ^D, ^Z) reaches the container's line discipline, which turns it into the
// signal or EOF; window size changes (SIGWINCH) are copied onto the pty.
import * as ffi from "../ffi.ts";
import * as terminal from "../ffi-tty.ts";

// node:tty costs about 2 ms to load, and only a terminal relay needs it: loaded on first use,
// so every run/exec without a terminal starts that much faster.
type NodeTty = typeof import("node:tty");
const tty = (): NodeTty => require("node:tty") as NodeTty;


/** How long output may still drain after the process exited (its children may hold the pty). */
const DRAIN_MS_MAX = 1000;
const RECEIVE_MS_MAX = 10_000;
/** ^D: what a terminal user types for end-of-file; sent when our stdin is a pipe that ended. */
const VEOF = "\x04";

/** The pty master the init sent over our end of the console socketpair. */
export function receiveMaster(sock: number): number {
  return ffi.recvFd(sock, RECEIVE_MS_MAX).fd;
}

export interface TerminalRelay {
  /** Copy the caller's window size onto the pty again (SIGWINCH). */
  resize(): void;
  /** After the process exited: drain what is left, put our terminal back, close the master. */
  finish(): Promise<void>;
}

/** Our own terminal: stdin when it is one, else stdout. */
function ownTerminal(): number | undefined {
  const { isatty } = tty();
  if (isatty(0)) return 0;
  if (isatty(1)) return 1;
  return undefined;
}

export function relayTerminal(master: number): TerminalRelay {
  const { ReadStream, WriteStream } = tty();
  const term = ownTerminal();
  let saved: Uint8Array | undefined;
  if (term === 0) saved = terminal.makeRaw(0);
  const resize = () => {
    if (term === undefined) return;
    try {
      const { rows, cols } = terminal.getWinsize(term);
      if (rows && cols) terminal.setWinsize(master, rows, cols);
    } catch {}
  };
  resize();

  const fromPty = new ReadStream(master);
  const toPty = new WriteStream(master);
  let ptyClosed = false;
  const closed = new Promise<void>((done) => {
    const end = () => {
      ptyClosed = true;
      done();
    };
    // EIO: the last holder of the slave side is gone.
    fromPty.on("error", end);
    fromPty.on("close", end);
    fromPty.on("end", end);
  });
  fromPty.on("data", (chunk: Buffer) => process.stdout.write(chunk));
  toPty.on("error", () => {});

  const input = term === 0 ? new ReadStream(0) : process.stdin;
  const onInput = (chunk: Buffer) => {
    if (!ptyClosed) toPty.write(chunk);
  };
  const onInputEnd = () => {
    if (!ptyClosed) toPty.write(VEOF);
  };
  input.on("data", onInput);
  input.on("end", onInputEnd);
  input.on("error", () => {});

  return {
    resize,
    async finish() {
      await Promise.race([closed, Bun.sleep(DRAIN_MS_MAX)]);
      input.off("data", onInput);
      input.off("end", onInputEnd);
      if (input !== process.stdin) input.destroy();
      else process.stdin.pause();
      fromPty.destroy();
      toPty.destroy();
      // Bun's tty streams leave the fd open on destroy: it is ours to close.
      ffi.close(master);
      if (saved) {
        try {
          terminal.restoreTty(0, saved);
        } catch {}
      }
    },
  };
}
