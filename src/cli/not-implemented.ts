// Verbs whose capability belongs to another module answer this until that module lands.
import { BunruncError } from "../lib/errors.ts";

export function notImplemented(verb: string): () => never {
  return () => {
    throw new BunruncError("not-implemented", `${verb}: not implemented`);
  };
}
