// What each of a worker's functions costs V8's optimising compiler by itself: compiles every
// function of WORKER.wasm with TurboFan, up front and on one thread, in this node's V8
// (`--no-liftoff --no-wasm-lazy-compilation --single-threaded`), and prints the total and the most
// costly functions. No page, no other work on the cores and no inlining (nothing has run, so V8
// has no call counts to inline by), so the figures repeat far better than a page run's
// (compile-times.mjs), and show what a function's own body costs to optimise.
// Usage: node tests/e2e/bench/optimise-times.mjs WORKER.wasm [--top N] [--match REGEX]
// Names need a worker with its name section (`scripts/named-worker.sh DIR`) and wasm-opt on
// PATH; without either, functions are shown by index.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const args = process.argv.slice(2);
const valueOf = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const top = Number(valueOf('--top') ?? 25);
const match = valueOf('--match') !== undefined ? new RegExp(valueOf('--match')) : null;
const wasm = args.find((a, i) => !a.startsWith('--') && !['--top', '--match'].includes(args[i - 1]));

if (process.env.OPTIMISE_TIMES_CHILD) {
  // The child: compile the module, and V8 prints one line per function.
  new WebAssembly.Module(fs.readFileSync(wasm));
  process.exit(0);
}
if (!wasm) {
  console.error('usage: node tests/e2e/bench/optimise-times.mjs WORKER.wasm [--top N] [--match REGEX]');
  process.exit(2);
}
const flags = ['--no-liftoff', '--no-wasm-lazy-compilation', '--single-threaded', '--trace-wasm-compilation-times'];
const child = spawnSync(process.execPath, [...flags, new URL(import.meta.url).pathname, wasm], {
  encoding: 'utf8',
  maxBuffer: 1 << 26,
  env: { ...process.env, OPTIMISE_TIMES_CHILD: '1' },
});
if (child.status !== 0) {
  console.error(child.stderr || `node exited with ${child.status}`);
  process.exit(1);
}
const names = new Map();
const map = spawnSync('wasm-opt', [wasm, '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--print-function-map'], { encoding: 'utf8', maxBuffer: 1 << 26 });
for (const line of (map.stdout || '').split('\n')) {
  const m = line.match(/^(\d+):(.*)$/);
  if (m) names.set(Number(m[1]), m[2].replace(/::h[0-9a-f]{16}$/, ''));
}
const jobs = [];
for (const line of (child.stdout + child.stderr).split('\n')) {
  const m = line.match(/#(\d+) using TurboFan, took (\d+) ms.*bodysize (\d+)/);
  if (m) jobs.push({ ms: Number(m[2]), bytes: Number(m[3]), name: names.get(Number(m[1])) ?? `function #${m[1]}` });
}
const shown = jobs.filter((j) => !match || match.test(j.name)).sort((a, b) => b.ms - a.ms || b.bytes - a.bytes);
const sum = (list) => list.reduce((a, j) => a + j.ms, 0);
console.log(`${jobs.length} functions, ${sum(jobs)} ms in all` + (match ? `; ${shown.length} matching ${match}, ${sum(shown)} ms` : ''));
for (const j of shown.slice(0, top)) console.log(`${String(j.ms).padStart(6)} ms ${String(j.bytes).padStart(7)} B  ${j.name}`);
