// How long the page takes to answer a filter typed over a large export: loads the export's files
// (as files, once the worker has warmed up), then sets the filter box to each filter in turn, with
// an empty filter between two, and prints the ms from setting it to the row count the page shows
// changing. Each filter must match some rows but not all, or the count would not change.
// With --type MS each filter is then also typed key by key, MS apart, and the ms from the first
// key to the page showing the whole filter's rows is printed too.
// Usage: node tests/e2e/bench/filter-bench.mjs DIR TARGET PORT [--type MS] [FILTER ...]
// (default filters: zzz ns3 10.0.1 app7 blocked, which suit the generated exports). Takes
// PODREACH_DIST like page-bench.mjs.
import { openPage } from '../lib/harness.mjs';
import { exportFiles } from '../lib/exports.mjs';

const args = process.argv.slice(2);
const typeAt = args.indexOf('--type');
const keyMs = typeAt >= 0 ? Number(args[typeAt + 1]) : null;
if (keyMs !== null && !(keyMs >= 0)) throw new Error('--type takes milliseconds');
const [dir, target, port, ...given] = args.filter((a, i) => typeAt < 0 || (i !== typeAt && i !== typeAt + 1));
const filters = given.length ? given : ['zzz', 'ns3', '10.0.1', 'app7', 'blocked'];
const { page, close } = await openPage({ target, port });
try {
  await page.waitForFunction(() => performance.getEntriesByName('podreach:worker-warm').length > 0, null, { timeout: 60000 });
  await page.locator('[data-testid="file-picker"]').setInputFiles(exportFiles(dir));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="source-row"]').length > 0 && !document.querySelector('[data-testid="progress"]'), null, { timeout: 600000, polling: 50 });
  await page.waitForTimeout(1000);
  const box = page.locator('[data-testid="filter"]');
  const info = async () => (await page.locator('[data-testid="page-info"]').innerText()).trim();
  const shows = (text) => page.waitForFunction((t) => (document.querySelector('[data-testid="page-info"]')?.innerText ?? '').trim() === t, text, { timeout: 60000, polling: 5 });
  const changes = (from) => page.waitForFunction((b) => (document.querySelector('[data-testid="page-info"]')?.innerText ?? '').trim() !== b, from, { timeout: 60000, polling: 5 });
  const all = await info();
  for (const f of filters) {
    let t = Date.now();
    await box.fill(f);
    await changes(all);
    const filtered = await info();
    let line = `${f}: ${Date.now() - t} ms (${filtered})`;
    await box.fill('');
    await shows(all);
    if (keyMs !== null) {
      t = Date.now();
      await box.pressSequentially(f, { delay: keyMs });
      await shows(filtered);
      line += `; typed ${keyMs} ms apart: ${Date.now() - t} ms`;
      await box.fill('');
      await shows(all);
    }
    console.log(line);
  }
} finally {
  await close();
}
