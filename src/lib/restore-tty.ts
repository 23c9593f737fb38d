// A terminal container on restore. Its pty's master was the console socket receiver's (conmon,
// containerd's shim) and is not in the images: checkpoint dumped the slave as an external
// terminal (tty[rdev:dev], in bunrunc-stdio.json) and /dev/console as an external mount. Restore
// makes a new pty, hands its slave to CRIU under that key and binds it onto /dev/console, and
// sends the master to --console-socket as create does.
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { STDIO_KEYS_FILE } from "./criu.ts";
import { BunruncError } from "../base/errors.ts";
import * as ffi from "../ffi.ts";
import * as terminal from "../ffi-tty.ts";
import { quote } from "../base/quote.ts";

export interface TerminalRestore {
  master: number;
  slave: number;
  /** CRIU's key for the dumped terminal. */
  key: string;
  /** The new slave's path (what /dev/console binds). */
  slavePath: string;
  /** Sends the master on a connected console socket. */
  send(sock: number): void;
}

export function restoreTerminal(imagePath: string): TerminalRestore {
  let keys: unknown = [];
  try {
    keys = JSON.parse(readFileSync(join(imagePath, STDIO_KEYS_FILE), "utf8"));
  } catch {}
  const key = Array.isArray(keys) ? (keys.find((k) => typeof k === "string" && k.startsWith("tty[")) as string | undefined) : undefined;
  if (!key) throw new BunruncError("usage", `restore: process.terminal is true but the images in ${quote(imagePath)} hold no terminal checkpointed by bunrunc`);
  // The devpts instance mounted at /dev/pts (its own ptmx), so the slave has a path to bind.
  const pty = terminal.openPty(existsSync("/dev/pts/ptmx") ? "/dev/pts/ptmx" : "/dev/ptmx");
  const slavePath = readlinkSync(`/proc/self/fd/${pty.slave}`);
  return {
    master: pty.master,
    slave: pty.slave,
    key,
    slavePath,
    send: (sock) => ffi.sendFd(sock, pty.master, slavePath),
  };
}
