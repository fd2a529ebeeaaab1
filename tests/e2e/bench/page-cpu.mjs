// Where a page run's CPU goes, by thread, and the page faults of each: reads /proc for every
// thread of every Chromium process just before the files are chosen and once the view has come,
// and prints the differences (CPU time from utime + stime, in 10 ms ticks; "sys" is stime; faults
// are minor faults, each a fresh page of memory mapped on its first touch, BENCHMARKS.md item 65).
// The three dedicated workers (the reader, the analysis worker, the second worker) share a name
// and are told apart by thread id. Files are chosen the moment the worker is ready (a cold run),
// or with --warm once it has warmed up.
// Usage: node tests/e2e/bench/page-cpu.mjs DIR TARGET PORT [--warm]
import fs from 'node:fs';
import { openPage } from '../lib/harness.mjs';
import { exportFiles } from '../lib/exports.mjs';

const args = process.argv.slice(2);
const warm = args.includes('--warm');
const [dir, target, port] = args.filter((a) => !a.startsWith('--'));
const files = exportFiles(dir);

// Every thread of every Chromium process: "pid/tid" → { what, cpu ms, sys ms, faults }.
function threads() {
  const all = new Map();
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('chromium')) continue;
      const type = (cmd.match(/--type=([a-z-]+)/) ?? [null, 'browser'])[1];
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        // The fields after the name: minflt is the 8th, utime the 12th, stime the 13th.
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const what = name.startsWith('DedicatedWorker') ? `${type} / ${name} ${tid}` : `${type} / ${name.replace(/[0-9]+$/, '#')}`;
        all.set(`${pid}/${tid}`, { what, cpu: (Number(f[11]) + Number(f[12])) * 10, sys: Number(f[12]) * 10, faults: Number(f[7]) });
      }
    } catch {
      // A process or thread that ended meanwhile.
    }
  }
  return all;
}

const { page, close } = await openPage({ target, port });
try {
  const mark = warm ? 'podreach:worker-warm' : 'podreach:worker-ready';
  await page.waitForFunction((m) => window.podreach !== undefined && performance.getEntriesByName(m).length > 0, mark, { timeout: 60000 });
  const before = threads();
  await page.locator('[data-testid="file-picker"]').setInputFiles(files);
  await page.waitForFunction(() => performance.getEntriesByName('podreach:view').length > 0, null, { timeout: 600000, polling: 20 });
  const after = threads();
  const ms = await page.evaluate(() => performance.getEntriesByName('podreach:view')[0].startTime - performance.getEntriesByName('podreach:files-chosen')[0].startTime);
  const rows = new Map();
  for (const [key, t] of after) {
    const was = before.get(key) ?? { cpu: 0, sys: 0, faults: 0 };
    const row = rows.get(t.what) ?? { cpu: 0, sys: 0, faults: 0 };
    row.cpu += t.cpu - was.cpu;
    row.sys += t.sys - was.sys;
    row.faults += t.faults - was.faults;
    rows.set(t.what, row);
  }
  console.log(`${warm ? 'warm' : 'cold'} run, view ${ms.toFixed(0)} ms after the files were chosen; cpu ms, of it sys ms, faults, thread:`);
  const total = { cpu: 0, sys: 0, faults: 0 };
  for (const [what, r] of [...rows].filter(([, r]) => r.cpu > 0 || r.faults > 0).sort((a, b) => b[1].cpu - a[1].cpu || b[1].faults - a[1].faults)) {
    for (const k of Object.keys(total)) total[k] += r[k];
    console.log(`${String(r.cpu).padStart(6)} ${String(r.sys).padStart(5)} ${String(r.faults).padStart(7)}  ${what}`);
  }
  console.log(`${String(total.cpu).padStart(6)} ${String(total.sys).padStart(5)} ${String(total.faults).padStart(7)}  in all`);
} finally {
  await close();
}
