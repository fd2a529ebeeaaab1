// How the page's time depends on when the files are chosen: for each delay after the worker is
// ready (0 is `--cold`; `warm` waits for the warm-up's mark), N rounds of the release CLI and then
// the page, and each delay's median page time and median ratio to the CLI run just before it.
// Usage: node tests/e2e/bench/page-delay.mjs N DIR TARGET PORT DELAYS [DIST ...]  (DELAYS: ms,
// comma-separated, and `warm`; for example 0,500,1000,2000,warm). Needs target/release/podreach,
// and dist/ or the builds DIST ..., which take turns at each delay of each round.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from '../lib/harness.mjs';
import { pageBench } from './page-run.mjs';
import { exportFiles } from '../lib/exports.mjs';

const [n, dir, target, port, list, ...given] = process.argv.slice(2);
const dists = given.length ? given : [null];
if (!n || !list) {
  console.error('usage: node tests/e2e/bench/page-delay.mjs N DIR TARGET PORT DELAYS [DIST ...]');
  process.exit(2);
}
const delays = list.split(',');
const files = exportFiles(dir);
const podreach = path.join(root, 'target/release/podreach');

/// One timed run of the CLI over the same files, seconds; its report goes to /dev/null, as in
/// `cargo xtask bench`.
function cli() {
  const out = fs.openSync('/dev/null', 'w');
  const t = process.hrtime.bigint();
  const run = spawnSync(podreach, ['analyze', ...files, '--to', target, '--port', port, '--format', 'json'], { stdio: ['ignore', out, 'pipe'] });
  fs.closeSync(out);
  if (run.status !== 0) throw new Error(`podreach failed: ${run.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const key = (dist, d) => `${dist ? path.basename(dist) + ' ' : ''}${d}`;
const rows = new Map(dists.flatMap((dist) => delays.map((d) => [key(dist, d), []])));
for (let round = 0; round < Number(n); round++) {
  for (const d of delays) {
    for (const dist of dists) {
      spawnSync('sleep', ['2']);
      const c = cli();
      spawnSync('sleep', ['2']);
      const flag = d === 'warm' ? [] : d === '0' ? ['--cold'] : ['--after', d];
      const { result: j } = pageBench([dir, target, port, ...flag], dist ? { PODREACH_DIST: dist } : {});
      rows.get(key(dist, d)).push({ s: j.seconds, ratio: j.seconds / c, cli: c, warmAt: j.warmAt, readyAt: j.readyAt });
      console.log(`${key(dist, d).padStart(18)}  page ${j.seconds.toFixed(3)} s  cli ${c.toFixed(3)} s  ${(j.seconds / c).toFixed(2)}x  ${j.timing}`);
    }
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log('\nchosen after ready | page s (median) | page/cli (median) | range | warm-up ended, ms after ready (median)');
for (const [d, rs] of rows) {
  const r = rs.map((x) => x.ratio);
  const warm = rs.filter((x) => x.warmAt !== null).map((x) => x.warmAt - x.readyAt);
  console.log(`${d.padStart(18)} | ${median(rs.map((x) => x.s)).toFixed(3).padStart(15)} | ${median(r).toFixed(2).padStart(17)} | ${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)} | ${warm.length ? Math.round(median(warm)) : '-'}`);
}
