// v1 hugetlb: hugetlb.<size>.limit_in_bytes per page size ("2MB", "1GB"), and the reservation
// limit alongside when the kernel has it; stats per page size.
import { readdirSync } from "node:fs";
import type { Controller } from "../controller.ts";
import { hasFile, readUint, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { big, CgroupError, FIELD, type Resources } from "../types.ts";
import { quote } from "../../base/quote.ts";

const F = `${FIELD}.hugepageLimits`;

function apply(dir: string, r: Resources): void {
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const file = `hugetlb.${h.pageSize}.limit_in_bytes`;
    if (!hasFile(dir, file)) throw new CgroupError(`${F}[${i}].pageSize`, `page size ${quote(h.pageSize)} is not supported on this host (no ${file})`);
    writeControl(dir, file, big(h.limit), `${F}[${i}].limit`);
    const rsvd = `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`;
    if (hasFile(dir, rsvd)) writeControl(dir, rsvd, big(h.limit), `${F}[${i}].limit`);
  });
}

/** Page sizes the kernel offers, from the control files' names. */
export function pageSizes(dir: string, suffix: string): string[] {
  try {
    return readdirSync(dir)
      .map((f) => new RegExp(`^hugetlb\\.([0-9]+[KMG]B)\\.${suffix.replace(".", "\\.")}$`).exec(f)?.[1])
      .filter((x): x is string => Boolean(x));
  } catch {
    return [];
  }
}

function stats(dir: string, s: Stats): void {
  for (const size of pageSizes(dir, "usage_in_bytes")) {
    const p = `hugetlb.${size}`;
    s.hugetlb[size] = { usage: readUint(dir, `${p}.usage_in_bytes`), max: readUint(dir, `${p}.max_usage_in_bytes`), failcnt: readUint(dir, `${p}.failcnt`) };
  }
}

export const hugetlb: Controller = { name: "hugetlb", wants: (r) => ((r.hugepageLimits ?? []).length ? F : undefined), apply, stats };
