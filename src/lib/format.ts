// Output shapes shared by the CLI verbs: runc's `list` table and its timestamps.
import type { StateJson } from "./state.ts";

const MIN_WIDTH = 12;
const PADDING = 3;

/**
 * Aligns tab-separated cells like Go's text/tabwriter with runc's settings (minwidth 12,
 * padding 3, spaces): every cell but the last of a line is padded to its column's width.
 */
export function tabulate(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? MIN_WIDTH, cell.length + PADDING);
    });
  }
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join("") + "\n").join("");
}

export function listTable(items: readonly StateJson[]): string {
  const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], ...items.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
  return tabulate(rows);
}

/** RFC 3339 with nanoseconds and trailing zeros trimmed, UTC (Go's time.RFC3339Nano). */
export function rfc3339Nano(date = new Date(), subMillisNs = Number(process.hrtime.bigint() % 1_000_000n)): string {
  const iso = date.toISOString(); // 2006-01-02T15:04:05.000Z
  const frac = (iso.slice(20, 23) + String(subMillisNs).padStart(6, "0")).replace(/0+$/, "");
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ""}Z`;
}
