// One error type for the whole runtime: a stable code for callers and one line for people.
// The CLI prints `message` on stderr (and as the JSON log's last error) and exits `exitCode`.

export type ErrorCode =
  | "usage" // bad argv: unknown flag, wrong arity
  | "invalid-config" // config.json / process.json / resources JSON failed validation
  | "not-found" // container does not exist
  | "exists" // container id already taken, or spec file exists
  | "bad-state" // the container's status does not allow the operation
  | "untrusted" // the state root, a container's state dir or state.json could have been written by another user
  | "not-implemented"
  | "system"; // a syscall or step failed

export class BunruncError extends Error {
  override readonly name = "BunruncError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function notFound(): BunruncError {
  // runc's exact text: containerd and podman match on it.
  return new BunruncError("not-found", "container does not exist");
}
