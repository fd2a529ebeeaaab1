// How long the page takes to answer a filter typed over a large export: loads the export's files
// (as files, once the worker has warmed up), then sets the filter box to each filter in turn, with
// an empty filter between two, and prints the ms from setting it to the row count the page shows
// changing. Each filter must match some rows but not all, or the count would not change.
// Usage: node tests/e2e/bench/filter-bench.mjs DIR TARGET PORT [FILTER ...]
// (default filters: zzz ns3 10.0.1 app7 blocked, which suit the generated exports). Takes
// PODREACH_DIST like page-bench.mjs.
import { openPage } from '../lib/harness.mjs';
import { exportFiles } from '../lib/exports.mjs';

const [dir, target, port, ...given] = process.argv.slice(2);
const filters = given.length ? given : ['zzz', 'ns3', '10.0.1', 'app7', 'blocked'];
const { page, close } = await openPage({ target, port });
try {
  await page.waitForFunction(() => performance.getEntriesByName('podreach:worker-warm').length > 0, null, { timeout: 60000 });
  await page.locator('[data-testid="file-picker"]').setInputFiles(exportFiles(dir));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="source-row"]').length > 0 && !document.querySelector('[data-testid="progress"]'), null, { timeout: 600000, polling: 50 });
  await page.waitForTimeout(1000);
  const info = () => page.locator('[data-testid="page-info"]').innerText();
  const out = [];
  for (const f of filters.flatMap((f) => [f, ''])) {
    const before = await info();
    const t = Date.now();
    await page.fill('[data-testid="filter"]', f);
    await page.waitForFunction((b) => (document.querySelector('[data-testid="page-info"]')?.innerText ?? '') !== b, before, { timeout: 60000, polling: 5 });
    if (f) out.push(`${f}: ${Date.now() - t} ms (${(await info()).trim()})`);
  }
  console.log(out.join('\n'));
} finally {
  await close();
}
