// The one type of a runtime-spec config and its parts, inferred from the valibot schemas: what
// load.ts returns is what plan/, cgroups/ and lib/ read. Integers are Int (int64/uint64 fields
// may be bigint, json.ts); objects keep unknown members (the spec says ignore them).
import type * as v from "valibot";
import type { Int } from "./kinds.ts";
import type { Config, Hook, Mount, Process } from "./schema.ts";
import type { Device, IdMapping as IdMappingSchema, Linux, Seccomp } from "./schema-linux.ts";
import type { BlockIO, Cpu, DeviceRule as DeviceRuleSchema, Memory, Resources as ResourcesSchema, ThrottleDevice as ThrottleSchema, WeightDevice as WeightSchema } from "./schema-resources.ts";

export type { Int, Seccomp };

/** A config's linux.resources (also `update`'s --r/resources.json), validated. */
export type Resources = v.InferOutput<typeof ResourcesSchema>;

/** A validated config.json. */
export type Spec = Config;
export type SpecProcess = Process;
export type SpecLinux = Linux;
export type SpecMount = Mount;
export type SpecHook = Hook;
export type SpecHooks = NonNullable<Spec["hooks"]>;
export type SpecDevice = v.InferOutput<typeof Device>;
export type IdMapping = v.InferOutput<typeof IdMappingSchema>;

/** linux.resources' parts, as the cgroup controllers read them. */
export type DeviceRule = v.InferOutput<typeof DeviceRuleSchema>;
export type MemoryResources = v.InferOutput<typeof Memory>;
export type CpuResources = v.InferOutput<typeof Cpu>;
export type BlockIOResources = v.InferOutput<typeof BlockIO>;
export type WeightDevice = v.InferOutput<typeof WeightSchema>;
export type ThrottleDevice = v.InferOutput<typeof ThrottleSchema>;
