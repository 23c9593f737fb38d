// v2 hugetlb: hugetlb.<size>.max (and .rsvd.max when present); stats from .current and the
// "max" count of .events.
import type { Controller } from "../controller.ts";
import { hasFile, readKeyValues, readUint, writeControl } from "../files.ts";
import type { Stats } from "../stats.ts";
import { big, CgroupError, FIELD, type Resources } from "../types.ts";
import { pageSizes } from "../v1/hugetlb.ts";
import { quote } from "../../base/quote.ts";

const F = `${FIELD}.hugepageLimits`;

function apply(dir: string, r: Resources): void {
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const file = `hugetlb.${h.pageSize}.max`;
    if (!hasFile(dir, file)) throw new CgroupError(`${F}[${i}].pageSize`, `page size ${quote(h.pageSize)} is not supported on this host (no ${file})`);
    writeControl(dir, file, big(h.limit), `${F}[${i}].limit`);
    if (hasFile(dir, `hugetlb.${h.pageSize}.rsvd.max`)) writeControl(dir, `hugetlb.${h.pageSize}.rsvd.max`, big(h.limit), `${F}[${i}].limit`);
  });
}

function stats(dir: string, s: Stats): void {
  for (const size of pageSizes(dir, "current")) {
    s.hugetlb[size] = { usage: readUint(dir, `hugetlb.${size}.current`), max: 0n, failcnt: readKeyValues(dir, `hugetlb.${size}.events`).get("max") ?? 0n };
  }
}

export const hugetlb: Controller = { name: "hugetlb", wants: (r) => ((r.hugepageLimits ?? []).length ? F : undefined), apply, stats };
