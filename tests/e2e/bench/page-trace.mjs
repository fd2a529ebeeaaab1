// Where the page's main thread spends a long task: chooses an export's files in the built page
// (as page-bench.mjs does), records a Chrome trace (timeline and V8 wasm compilation), and prints
// each main-thread task over 40 ms with its parts (script, lazy wasm compilation, style, layout).
// Usage: node tests/e2e/bench/page-trace.mjs DIR TARGET PORT [trace.json] [--warm]
// Files are chosen the moment the worker is ready, or with --warm once it has warmed up.
import fs from 'node:fs';
import path from 'node:path';
import { serve, launch } from '../lib/harness.mjs';
const args = process.argv.slice(2);
const warm = args.includes('--warm');
const [dir, target, port, out] = args.filter((a) => a !== '--warm');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
const { server, base } = await serve();
const browser = await launch();
try {
  const page = await browser.context.newPage();
  await page.goto(`${base}#to=${target}&port=${port}`);
  const mark = warm ? 'podreach:worker-warm' : 'podreach:worker-ready';
  await page.waitForFunction((m) => window.podreach !== undefined && performance.getEntriesByName(m).length > 0, mark, { timeout: 60000 });
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.wasm,disabled-by-default-v8.wasm.detailed', transferMode: 'ReportEvents' });
  await page.locator('[data-testid="file-picker"]').setInputFiles(files);
  await page.waitForFunction(() => performance.getEntriesByName('podreach:view').length > 0 && document.querySelectorAll('[data-testid="source-row"]').length > 0, null, { timeout: 600000, polling: 50 });
  await page.waitForTimeout(800);
  await cdp.send('Tracing.end');
  await done;
  if (out) fs.writeFileSync(out, JSON.stringify(events));
  // main thread: the renderer's main thread is CrRendererMain
  const tn = new Map(); for (const e of events) if (e.name === 'thread_name') tn.set(e.pid + ':' + e.tid, e.args.name);
  const main = events.filter(e => tn.get(e.pid + ':' + e.tid) === 'CrRendererMain' && e.ph === 'X' && e.dur > 0);
  const tasks = main.filter(e => e.name === 'RunTask' && e.dur > 40000);
  for (const t of tasks) {
    const inside = main.filter(e => e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && e !== t);
    const agg = new Map(); for (const e of inside) agg.set(e.name, (agg.get(e.name) || 0) + e.dur);
    console.log('task', (t.dur / 1000).toFixed(1), 'ms', [...agg].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([k, v]) => `${k}=${(v / 1000).toFixed(1)}`).join(' '));
  }
} finally { await browser.close(); server.close(); }
