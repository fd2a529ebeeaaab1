// Where the page's main thread spends a long task: chooses an export's files in the built page
// (as page-bench.mjs does), records a Chrome trace (timeline and V8 wasm compilation), and prints
// each main-thread task over 40 ms with its parts (script, lazy wasm compilation, style, layout).
// Usage: node tests/e2e/bench/page-trace.mjs DIR TARGET PORT [trace.json] [--warm] [--profile [--within REGEX]] [--threads]
// Files are chosen the moment the worker is ready, or with --warm once it has warmed up.
// --profile also samples the worker (V8's CPU profiler) and prints where its time went, by
// function (self time, warm-up rounds apart): names need a worker built with its name section,
// `scripts/named-worker.sh DIR` (a copy of dist/ with one, optimised with the page's own wasm-opt
// flags) given as PODREACH_DIST=DIR. With --callers REGEX (and --profile) it also prints, for
// the functions whose names match, the time of each caller chain two frames up (--depth N: N
// frames in all). With --within REGEX (and --profile) only the samples under a function whose
// name matches count (for example `set_parsed`, the model's build). --threads prints the CPU time of the page, the workers, V8's optimising
// compiler and the IO thread per 100 ms after the files were chosen, then each worker's.
import fs from 'node:fs';
import { openPage } from '../lib/harness.mjs';
import { exportFiles } from '../lib/exports.mjs';
const args = process.argv.slice(2);
const warm = args.includes('--warm');
const profile = args.includes('--profile');
const threads = args.includes('--threads');
// Options that take a value: their values are not positional arguments.
const valued = ['--callers', '--depth', '--within'].map((f) => args.indexOf(f) + 1).filter((i) => i > 0);
const valueOf = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const callers = valueOf('--callers') !== undefined ? new RegExp(valueOf('--callers')) : null;
const depth = Number(valueOf('--depth') ?? 3);
const within = valueOf('--within') !== undefined ? new RegExp(valueOf('--within')) : null;
const [dir, target, port, out] = args.filter((a, i) => !a.startsWith('--') && !valued.includes(i));
const files = exportFiles(dir);
// Once the browser has finished its own start-up, as in page-bench.mjs (harness.mjs, settle).
const { page, close } = await openPage({ target, port });
try {
  const mark = warm ? 'podreach:worker-warm' : 'podreach:worker-ready';
  await page.waitForFunction((m) => window.podreach !== undefined && performance.getEntriesByName(m).length > 0, mark, { timeout: 60000 });
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.wasm,disabled-by-default-v8.wasm.detailed' + (profile ? ',disabled-by-default-v8.cpu_profiler' : ''), transferMode: 'ReportEvents' });
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
  // V8's optimising compiler: its CPU time on background threads, which share two cores with
  // the worker and the page.
  const tiers = events.filter((e) => e.name === 'wasm.TopTierCompilation');
  console.log('optimising compiler:', tiers.length, 'jobs,', (tiers.reduce((a, e) => a + (e.tdur || 0), 0) / 1000).toFixed(0), 'ms of cpu');
  if (threads) {
    // CPU time per 100 ms from the moment the files were chosen, by thread: each task's CPU time
    // spread evenly over its wall time. Reading is done partly in the browser process, which
    // this trace does not see.
    const group = { CrRendererMain: 'page', 'DedicatedWorker thread': 'worker', Chrome_IOThread: 'io' };
    const chosen = main.find((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'change')?.ts ?? main.reduce((a, e) => Math.min(a, e.ts), Infinity);
    const bins = new Map();
    const spread = (who, e) => {
      for (let t = e.ts; t < e.ts + e.dur;) {
        const bin = Math.floor((t - chosen) / 100000);
        const next = Math.min(e.ts + e.dur, chosen + (bin + 1) * 100000);
        const row = bins.get(bin) ?? {};
        row[who] = (row[who] ?? 0) + ((e.tdur ?? 0) * (next - t)) / e.dur / 1000;
        bins.set(bin, row);
        t = next;
      }
    };
    // Each worker (the file reader, the analysis worker, the second worker) on its own: they
    // are all "DedicatedWorker thread"s, told apart by thread id.
    const workerTotals = new Map();
    for (const e of events) {
      if (e.ph !== 'X' || !(e.dur > 0)) continue;
      const key = e.pid + ':' + e.tid;
      const who = group[tn.get(key)];
      if (e.name === 'RunTask' && who) {
        spread(who, e);
        if (who === 'worker' && e.ts + e.dur >= chosen) {
          spread(key, e);
          workerTotals.set(key, (workerTotals.get(key) ?? 0) + (e.tdur ?? 0) / 1000);
        }
      }
      if (e.name === 'wasm.ExecuteCompilationUnits') spread('compiler', e);
    }
    // Workers by their CPU time after the files were chosen, most first (the analysis worker,
    // then the second worker, then the reader, as a rule).
    const workers = [...workerTotals].filter(([, ms]) => ms >= 1).sort((a, b) => b[1] - a[1]).map(([k]) => k);
    const heads = workers.map((k, i) => `w${i + 1} ${workerTotals.get(k).toFixed(0)} ms`);
    console.log(`cpu ms per 100 ms after the files were chosen (page, all workers, compiler, io; then each worker: ${heads.join(', ')}):`);
    for (const [bin, row] of [...bins].filter(([b]) => b >= 0).sort((a, b) => a[0] - b[0])) {
      const cells = ['page', 'worker', 'compiler', 'io', ...workers].map((k) => (row[k] ?? 0).toFixed(0).padStart(4));
      console.log(`${String(bin * 100).padStart(6)} ms ${cells.join(' ')}`);
    }
  }
  if (profile) {
    // One profile per thread; the worker's is the one whose samples include the parser.
    const profiles = new Map();
    for (const e of events) {
      if (e.name !== 'Profile' && e.name !== 'ProfileChunk') continue;
      const key = e.pid + ':' + e.id;
      const p = profiles.get(key) ?? { nodes: new Map(), samples: [], deltas: [] };
      const d = e.args.data;
      for (const n of d.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n);
      p.samples.push(...(d.cpuProfile?.samples ?? []));
      p.deltas.push(...(d.timeDeltas ?? []));
      profiles.set(key, p);
    }
    const name = (n) => n?.callFrame?.functionName ?? '';
    const worker = [...profiles.values()].find((p) => [...p.nodes.values()].some((n) => name(n).includes('has_next_key') || name(n).includes('podreach_core')));
    if (worker) {
      const self = new Map();
      const by = new Map();
      let warmup = 0;
      worker.samples.forEach((id, i) => {
        const dt = worker.deltas[i] ?? 0;
        const stack = [];
        for (let n = worker.nodes.get(id); n; n = worker.nodes.get(n.parent)) stack.push(name(n));
        if (stack.some((f) => f.includes('warm_round'))) { warmup += dt; return; }
        if (stack[0] === '(idle)') return;
        if (within && !stack.some((f) => within.test(f))) return;
        self.set(stack[0], (self.get(stack[0]) ?? 0) + dt);
        if (callers?.test(stack[0])) {
          const chain = stack.slice(0, depth).map((f) => f.replace(/::h[0-9a-f]{16}$/, '').slice(-60)).join(' < ');
          by.set(chain, (by.get(chain) ?? 0) + dt);
        }
      });
      const busy = [...self.values()].reduce((a, b) => a + b, 0);
      console.log('worker: busy', (busy / 1000).toFixed(0), 'ms, warm-up rounds', (warmup / 1000).toFixed(0), 'ms; self time:');
      for (const [f, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(v / 1000).toFixed(1).padStart(8)} ms  ${f.replace(/::h[0-9a-f]{16}$/, '').slice(-110)}`);
      if (callers) {
        console.log(`callers of ${callers}:`);
        for (const [c, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(v / 1000).toFixed(1).padStart(8)} ms  ${c}`);
      }
    }
  }
} finally { await close(); }
