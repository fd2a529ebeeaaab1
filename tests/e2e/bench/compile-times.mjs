// What V8's optimising compiler spends on the worker's functions in one page run: runs
// page-bench.mjs with V8's `--trace-wasm-compilation-times` and sums the TurboFan jobs by function.
// Usage: node tests/e2e/bench/compile-times.mjs DIR TARGET PORT [--cold] [--top N] [--when]
// Every job since the page loaded counts: in a warm run (the default), the warm-up's too.
// --when also lists, in the order they finished, the jobs that finished after the files were
// chosen, as [ms after the files were chosen, ms, function]: a job that ends after the last call
// of its function in the run (a function called once per run) only serves the next run. The time
// is when the browser's output line was logged, so jobs logged together share it.
// Names need a worker with its name section (`scripts/named-worker.sh DIR`) in PODREACH_DIST,
// and wasm-opt on PATH to list them; without either, functions are shown by index.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { dist } from '../lib/harness.mjs';
import { pageBench } from './page-run.mjs';

const args = process.argv.slice(2);
const when = args.includes('--when');
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
const pass = args.filter((a, i) => a !== '--top' && a !== '--when' && (topAt < 0 || i !== topAt + 1));
const flags = [process.env.PODREACH_CHROMIUM_ARGS, '--js-flags=--trace-wasm-compilation-times'].filter(Boolean).join(' ');
// Playwright passes the browser's output on under DEBUG=pw:browser, one line per write.
const { result, stderr } = pageBench(pass, { DEBUG: 'pw:browser', PODREACH_CHROMIUM_ARGS: flags });

// Function names by index, from the worker's name section.
const names = new Map();
const map = spawnSync('wasm-opt', [path.join(dist, 'worker_bg.wasm'), '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--print-function-map'], { encoding: 'utf8', maxBuffer: 1 << 26 });
for (const line of (map.stdout || '').split('\n')) {
  const m = line.match(/^(\d+):(.*)$/);
  if (m) names.set(Number(m[1]), m[2].replace(/::h[0-9a-f]{16}$/, ''));
}

// "Compiled function 0x…#INDEX using TurboFan, took N μs and … bodysize B …": one per job.
const jobs = [];
for (const line of stderr.split('\n')) {
  const m = line.match(/Compiled function (0x[0-9a-f]+)#(\d+) using TurboFan, took (\d+) μs.*bodysize (\d+)/);
  // Playwright's debug lines begin with an ISO time when they do not go to a terminal.
  const at = Date.parse(line.split(' ')[0]);
  if (m) jobs.push({ module: m[1], index: Number(m[2]), us: Number(m[3]), bytes: Number(m[4]), at });
}
// Two modules compile: the page's and the worker's; the worker's is the one with more work.
const perModule = new Map();
for (const j of jobs) perModule.set(j.module, (perModule.get(j.module) || 0) + j.us);
const worker = [...perModule].sort((a, b) => b[1] - a[1])[0]?.[0];
const mine = jobs.filter((j) => j.module === worker);
const total = mine.reduce((a, j) => a + j.us, 0);
console.log(`page ${result.seconds.toFixed(3)} s (${result.cold ? 'cold' : 'warm'}): ${result.timing}`);
console.log(`worker: ${mine.length} TurboFan jobs, ${(total / 1000).toFixed(0)} ms in all (wall time per job, on threads that share the cores)`);
for (const j of mine.sort((a, b) => b.us - a.us).slice(0, top)) {
  console.log(`${(j.us / 1000).toFixed(1).padStart(8)} ms ${String(j.bytes).padStart(7)} B  ${names.get(j.index) ?? `function #${j.index}`}`);
}
if (when) {
  console.log('jobs that finished after the files were chosen (ms after, ms, function):');
  for (const j of mine.filter((j) => j.at >= result.chosenEpochMs).sort((a, b) => a.at - b.at)) {
    console.log(`${String(Math.round(j.at - result.chosenEpochMs)).padStart(7)} ${(j.us / 1000).toFixed(1).padStart(7)} ms  ${names.get(j.index) ?? `function #${j.index}`}`);
  }
}
