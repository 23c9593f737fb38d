// Output shapes shared by the CLI verbs: runc's `list` table and its timestamps.
import type { StateJson } from "./query.ts";

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
