// A terminal container on restore: not yet.
import { BunruncError } from "./errors.ts";

export interface TerminalRestore {
  master: number;
  slave: number;
  key: string;
  send(sock: number): void;
}

export function restoreTerminal(_imagePath: string): TerminalRestore {
  throw new BunruncError("not-implemented", "restore: a container with process.terminal: not implemented yet");
}
