// Timestamps as Go prints them: runc's state.json `created` and logrus's `time` field.

/** RFC 3339 with nanoseconds and trailing zeros trimmed, UTC (Go's time.RFC3339Nano). */
export function rfc3339Nano(date = new Date(), subMillisNs = Number(process.hrtime.bigint() % 1_000_000n)): string {
  const iso = date.toISOString(); // 2006-01-02T15:04:05.000Z
  const frac = (iso.slice(20, 23) + String(subMillisNs).padStart(6, "0")).replace(/0+$/, "");
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ""}Z`;
}
