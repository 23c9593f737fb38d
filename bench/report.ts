// Turns case results into ratios and verdicts, a terminal table, and the JSON result.
import type { CaseResult } from "./context.ts";
import type { Summary } from "./spawn.ts";

export interface Verdict {
  vsRunc?: number;
  vsFloor?: number;
  /** bunrunc's CPU per container (launched + server) over runc's, where the case counts CPU. */
  cpuVsRunc?: number;
  /** Each target and whether it holds, e.g. "≤ 0.4× runc": true. */
  targets: Record<string, boolean>;
}

export function verdict(c: CaseResult): Verdict {
  const b = c.results.bunrunc?.median;
  const r = c.results.runc?.median;
  const f = c.results.floor?.median;
  const v: Verdict = { targets: {} };
  if (b === undefined) return v;
  if (r) v.vsRunc = b / r;
  if (f) v.vsFloor = b / f;
  const cb = c.cpu?.bunrunc?.total;
  const cr = c.cpu?.runc?.total;
  if (cb !== undefined && cr) v.cpuVsRunc = cb / cr;
  const t = c.target ?? {};
  if (t.vsRunc !== undefined && v.vsRunc !== undefined) v.targets[`≤ ${t.vsRunc}× runc`] = v.vsRunc <= t.vsRunc;
  if (t.vsFloor !== undefined && v.vsFloor !== undefined) v.targets[`≤ ${t.vsFloor}× floor`] = v.vsFloor <= t.vsFloor;
  if (t.absolute !== undefined) v.targets[`≤ ${t.absolute} ${c.unit}`] = b <= t.absolute;
  return v;
}

function num(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(x >= 1 ? 2 : 3);
}

function cell(s: Summary | undefined, unit: string): string {
  if (!s) return "-";
  return s.n > 1 ? `${num(s.median)} ${unit} (${num(s.min)}–${num(s.max)})` : `${num(s.median)} ${unit}`;
}

const ratio = (x: number | undefined) => (x === undefined ? "-" : `${x.toFixed(2)}×`);

export function table(cases: CaseResult[]): string {
  const head = ["case", "bunrunc median (min–max)", "runc median (min–max)", "floor", "b/runc", "b/floor", "targets"];
  const rows = cases.map((c) => {
    if (c.skipped) return [c.title, `skipped: ${c.skipped}`, "", "", "", "", ""];
    const v = verdict(c);
    const targets = Object.entries(v.targets).map(([k, ok]) => `${k} ${ok ? "met" : "MISSED"}`).join("; ");
    return [c.title, cell(c.results.bunrunc, c.unit), cell(c.results.runc, c.unit), cell(c.results.floor, c.unit), ratio(v.vsRunc), ratio(v.vsFloor), targets];
  });
  const shown = new Set(["bunrunc", "runc", "floor"]);
  const others = (c: CaseResult) =>
    Object.entries(c.results)
      .filter(([k]) => !shown.has(k))
      .map(([k, s]) => `  ${c.title}: also ${k}: ${cell(s, c.unit)}${c.results.runc ? ` (${ratio(s.median / c.results.runc.median)} runc)` : ""}`);
  const notes = cases.flatMap((c) => [...others(c), ...c.notes.map((n) => `  ${c.title}: ${n}`)]);
  return [...aligned(head, rows), "", ...cpuTable(cases), "", "notes:", ...notes].join("\n");
}

function aligned(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i]!.length > 60 ? 0 : r[i]!.length))));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(head), ...rows.map(line)];
}

/** CPU per container: bunrunc's launched processes and server apart, then totals and their ratio. */
function cpuTable(cases: CaseResult[]): string[] {
  const counted = cases.filter((c) => !c.skipped && c.cpu);
  if (!counted.length) return [];
  const ms = (x: number | undefined) => (x === undefined ? "-" : `${num(x)} ms`);
  const head = ["CPU per container (user+sys, mean)", "bunrunc front+init", "bunrunc server", "bunrunc total", "runc total", "floor", "b/runc CPU", "bunrunc calls run directly"];
  const rows = counted.map((c) => {
    const b = c.cpu!.bunrunc;
    const server = b?.server === undefined ? "-" : `${ms(b.server)}${b.serverPrecise === false ? " (ticks)" : ""}`;
    const direct = b?.calls === undefined ? "-" : `${b.direct} of ${b.calls}`;
    return [c.title, ms(b?.launched), server, ms(b?.total), ms(c.cpu!.runc?.total), ms(c.cpu!.floor?.total), ratio(verdict(c).cpuVsRunc), direct];
  });
  return aligned(head, rows);
}

export function resultJson(meta: Record<string, unknown>, cases: CaseResult[]): string {
  return `${JSON.stringify({ ...meta, cases: cases.map((c) => ({ ...c, ...verdict(c) })) }, null, 2)}\n`;
}
