// The browser half of `cargo xtask bench`: chooses the export's files in the built page (as files,
// not pasted), waits for the analysis, and prints the page's own timings and its longest task.
// Usage: node tests/e2e/bench/page-bench.mjs DIR TARGET PORT [--cold | --after MS] [--no-settle]  → one JSON line on stdout.
// --after MS: the files are chosen MS after the worker is ready, as a user who takes that long.
// The page opens once the browser has finished its own start-up (harness.mjs, settle), as a user's
// browser has long done; --no-settle opens it at once, as up to run 55 (BENCHMARKS.md item 51).
import { openPage } from '../lib/harness.mjs';
import { exportFiles } from '../lib/exports.mjs';

const args = process.argv.slice(2);
const cold = args.includes('--cold');
const noSettle = args.includes('--no-settle');
const afterAt = args.indexOf('--after');
const delay = afterAt >= 0 ? Number(args[afterAt + 1]) : null;
if (delay !== null && !(delay >= 0)) throw new Error('--after takes milliseconds');
const [dir, target, port] = args.filter((a, i) => !a.startsWith('--') && (afterAt < 0 || i !== afterAt + 1));
const files = exportFiles(dir);
const { page, settledMs, close } = await openPage({
  target,
  port,
  settle: !noSettle,
  init: (p) => p.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
    // Long animation frames: a task plus the style and layout work it caused before the next paint.
    window.__frames = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__frames.push({ start: e.startTime, ms: e.duration }); })
      .observe({ type: 'long-animation-frame', buffered: true });
  }),
});
try {
  // As a user would: choose files once the page has started, seconds after it loads. By then the
  // worker has warmed up its compiled code (engine::warm_round), which the page marks. With
  // --cold the files are chosen the moment the worker is ready, which stops the warm-up; with
  // --after MS, MS after it is ready, which may find the warm-up under way.
  const ready = (name) => page.waitForFunction((n) => window.podreach !== undefined && performance.getEntriesByName(n).length > 0, name, { timeout: 60000 });
  await ready(cold || delay !== null ? 'podreach:worker-ready' : 'podreach:worker-warm');
  if (delay !== null) {
    // From the ready mark, on the page's clock, whatever the harness took to see it.
    await page.waitForFunction((ms) => performance.now() >= performance.getEntriesByName('podreach:worker-ready')[0].startTime + ms, delay, { timeout: 60000 + delay, polling: 10 });
  }
  const t0 = Date.now();
  await page.locator('[data-testid="file-picker"]').setInputFiles(files);
  await page.waitForFunction(() => performance.getEntriesByName('podreach:view').length > 0
    && !document.querySelector('[data-testid="progress"]')
    && document.querySelectorAll('[data-testid="source-row"]').length > 0, null, { timeout: 600000, polling: 50 });
  const wall = (Date.now() - t0) / 1000;
  // Let the rest of the view be drawn and the frame entries be delivered.
  await page.waitForTimeout(1000);
  const r = await page.evaluate(() => {
    const m = (n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
    const timing = document.querySelector('[data-testid="timing"]')?.innerText ?? '';
    return { origin: performance.timeOrigin, readyAt: m('podreach:worker-ready'), warmAt: m('podreach:worker-warm'), frames: window.__frames, chosen: m('podreach:files-chosen'), view: m('podreach:view'), longTasks: window.__longTasks, timing,
      blocked: document.querySelector('[data-testid="count-blocked"] strong')?.innerText };
  });
  // From the moment the files are chosen; the page's own start-up is reported on its own.
  const after = r.longTasks.filter((t) => t.start >= r.chosen).map((t) => t.ms);
  const before = r.longTasks.filter((t) => t.start < r.chosen).map((t) => t.ms);
  const longest = after.length ? Math.max(...after) : 0;
  const startup = before.length ? Math.max(...before) : 0;
  // Each long task, as [ms after the files were chosen, duration ms]: where the page still blocks.
  const tasks = r.longTasks.map((t) => [Math.round(t.start - r.chosen), Math.round(t.ms)]);
  // Frames from the moment the files are chosen (the page's own start-up is before that).
  const frames = r.frames.filter((f) => f.start >= r.chosen).map((f) => [Math.round(f.start - r.chosen), Math.round(f.ms)]);
  const longestFrame = frames.length ? Math.max(...frames.map((f) => f[1])) : 0;
  // From navigation: when the worker was ready, and when its warm-up ended (null if it did not).
  const at = (ms) => (Number.isNaN(ms) ? null : Math.round(ms));
  console.log(JSON.stringify({ seconds: (r.view - r.chosen) / 1000, wall, cold, after: delay, settledMs, chosenAfterReady: Math.round(r.chosen - r.readyAt), readyAt: at(r.readyAt), warmAt: at(r.warmAt), longestTaskMs: longest, startupTaskMs: Math.round(startup), longTasks: r.longTasks.length, tasks, longestFrameMs: longestFrame, frames, viewAt: Math.round(r.view - r.chosen), chosenEpochMs: r.origin + r.chosen, timing: r.timing, blocked: r.blocked }));
} finally {
  await close();
}
