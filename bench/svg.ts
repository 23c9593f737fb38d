// A plain SVG bar chart of the medians: one group per case, one bar per runtime (and the floor),
// each group scaled to its own largest value since units differ; the value is written on the bar.
// Where a case counts CPU, its title also gives bunrunc's CPU per container over runc's.
import type { CaseResult } from "./context.ts";
import { verdict } from "./report.ts";

const COLORS: Record<string, string> = { bunrunc: "#e07a1f", runc: "#3b6ea8", crun: "#5a9e4b", floor: "#9a9a9a" };
const WIDTH = 900;
const LABEL_W = 90;
const BAR_H = 16;
const GAP = 4;
const GROUP_GAP = 22;
const BAR_MAX = WIDTH - LABEL_W - 120;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function svgChart(cases: CaseResult[], subtitle: string): string {
  const shown = cases.filter((c) => !c.skipped && Object.keys(c.results).length);
  const parts: string[] = [];
  let y = 50;
  for (const c of shown) {
    const v = verdict(c);
    const ratios = [v.vsRunc !== undefined ? `${v.vsRunc.toFixed(2)}× runc` : "", v.vsFloor !== undefined ? `${v.vsFloor.toFixed(2)}× floor` : "", v.cpuVsRunc !== undefined ? `CPU ${v.cpuVsRunc.toFixed(2)}× runc` : ""].filter(Boolean).join(", ");
    const ratioText = ratios ? ` <tspan font-weight="normal" fill="#555">· bunrunc ${esc(ratios)}</tspan>` : "";
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(c.title)}${ratioText}</text>`);
    y += 20;
    const entries = Object.entries(c.results);
    const max = Math.max(...entries.map(([, s]) => s.median));
    for (const [name, s] of entries) {
      const w = Math.max(1, (s.median / max) * BAR_MAX);
      parts.push(`<text x="${LABEL_W - 8}" y="${y + 12}" text-anchor="end">${esc(name)}</text>`);
      parts.push(`<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLORS[name] ?? "#777"}"/>`);
      parts.push(`<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + 12}">${s.median.toFixed(s.median >= 100 ? 0 : 2)} ${c.unit}</text>`);
      y += BAR_H + GAP;
    }
    y += GROUP_GAP;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">bunrunc vs runc: medians (lower is better)</text>`,
    `<text x="10" y="36" fill="#555">${esc(subtitle)}</text>`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}
