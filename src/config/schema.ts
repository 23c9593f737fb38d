// Valibot schemas for runtime-spec v1.3.0 documents: config.json (Config), exec's process.json
// (Process), update's resources JSON (Resources) and the state output (State).
//
// Objects are loose: unknown members pass through untouched, as the spec requires. Integers are
// sized (kinds.ts) and int64/uint64 fields may be bigint (json.ts). A null member counts as
// absent. What one field cannot say alone (absolute paths, duplicates, fields that need each
// other) is checked afterwards in semantics.ts.
import * as v from "valibot";
import { bool, goInt, later, list, obj, oneOf, opt, str, stringMap, strings, type Int } from "./kinds.ts";
import { IdMapping, Linux } from "./schema-linux.ts";
import { Process } from "./schema-process.ts";
import { Resources } from "./schema-resources.ts";
import { quote } from "../base/quote.ts";

export { Linux, Process, Resources };
export type { Int };

/** 1.0.0 to 1.3.x, with optional pre-release/build suffixes (runc writes "1.0.2-dev"). */
const SUPPORTED_VERSION = /^1\.[0-3]\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export const OciVersion = v.pipe(
  str,
  v.regex(SUPPORTED_VERSION, (i) => `unsupported version ${quote(i.input)} (supported: 1.0.0 to 1.3.x)`),
);

export const Root = obj({ path: str, readonly: opt(bool) });

export const Mount = obj({
  destination: str,
  source: opt(str),
  options: opt(strings),
  type: opt(str),
  uidMappings: opt(list(IdMapping)),
  gidMappings: opt(list(IdMapping)),
});

export const Hook = later(() => obj({ path: str, args: opt(strings), env: opt(strings), timeout: opt(goInt) }));

export const HOOK_NAMES = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] as const;

export const Hooks = later(() => obj({
  prestart: opt(list(Hook)),
  createRuntime: opt(list(Hook)),
  createContainer: opt(list(Hook)),
  startContainer: opt(list(Hook)),
  poststart: opt(list(Hook)),
  poststop: opt(list(Hook)),
}));

export const Config = obj({
  ociVersion: OciVersion,
  root: opt(Root),
  mounts: opt(list(Mount)),
  process: opt(Process),
  hostname: opt(str),
  domainname: opt(str),
  hooks: opt(Hooks),
  annotations: opt(stringMap),
  linux: opt(Linux),
});

/** `state` output: the OCI state plus runc's rootfs, created and owner. */
export const State = later(() => obj({
  ociVersion: str,
  id: str,
  status: oneOf(["creating", "created", "running", "paused", "stopped"] as const),
  pid: opt(v.pipe(goInt, v.check((pid) => pid >= 0, "expected a pid >= 0"))),
  bundle: str,
  rootfs: opt(str),
  created: opt(str),
  annotations: opt(stringMap),
  owner: opt(str),
}));

export type Config = v.InferOutput<typeof Config>;
export type Mount = v.InferOutput<typeof Mount>;
export type Hook = v.InferOutput<typeof Hook>;
export type State = v.InferOutput<typeof State>;
