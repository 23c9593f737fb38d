// Reads JUnit reports (bun's, then the leak check's) and prints the one closing line CI reads:
// "N passed, N failed, N skipped". Exits non-zero when any test failed, when a report is missing,
// or when bun itself failed.
const [statusText, ...reports] = process.argv.slice(2);
const status = Number(statusText ?? "1");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const report of reports) {
  const file = Bun.file(report);
  if (!(await file.exists())) {
    console.error(`no JUnit report at ${report} (bun test exited ${status})`);
    failed++;
    continue;
  }
  const xml = await file.text();
  for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
}
// A file that fails to load produces no testcase; bun's exit status still reports it.
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);

export {};
