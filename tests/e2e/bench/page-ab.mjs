// Two or more builds of the page side by side: runs page-bench.mjs for each dist directory in
// turn, N rounds, with a pause before each run (a closed browser goes on exiting), and prints every
// run's time and phases, then each build's median, range, phases and rounds won.
// Usage: node tests/e2e/bench/page-ab.mjs N DIR TARGET PORT DIST_A DIST_B [DIST_C ...] [--cold]
// A cold page run spreads over ±15% on this machine: ten rounds or more tell 5-10% apart.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pageBench } from './page-run.mjs';
const args = process.argv.slice(2);
const cold = args.includes('--cold');
const [n, dir, target, port, ...dists] = args.filter((a) => !a.startsWith('--'));
if (!n || dists.length < 2) {
  console.error('usage: node tests/e2e/bench/page-ab.mjs N DIR TARGET PORT DIST_A DIST_B [DIST_C ...] [--cold]');
  process.exit(2);
}
const runs = new Map(dists.map((d) => [d, []]));
const phase = (timing, re) => Number(timing.match(re)?.[1] ?? NaN);
for (let round = 0; round < Number(n); round++) {
  for (const d of dists) {
    spawnSync('sleep', ['2']);
    const { result: j } = pageBench([dir, target, port, ...(cold ? ['--cold'] : [])], { PODREACH_DIST: d });
    const run = {
      s: j.seconds,
      parse: phase(j.timing, /parsed in (\d+) ms/),
      wait: phase(j.timing, /(\d+) ms waiting/),
      model: phase(j.timing, /modelled in (\d+) ms/),
      analyse: phase(j.timing, /analysed in (\d+) ms/),
      task: j.longestTaskMs,
    };
    runs.get(d).push(run);
    console.log(`${path.basename(d).padEnd(16)} ${run.s.toFixed(3)} s  parse ${run.parse}  wait ${run.wait}  model ${run.model}  analyse ${run.analyse}  task ${run.task}`);
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
for (const [d, rs] of runs) {
  const s = rs.map((r) => r.s);
  const won = rs.filter((r, i) => dists.every((o) => runs.get(o)[i].s >= r.s)).length;
  console.log(
    `${path.basename(d)}: median ${median(s).toFixed(3)} s (${Math.min(...s).toFixed(3)}-${Math.max(...s).toFixed(3)}), ` +
      `parse ${median(rs.map((r) => r.parse))}, wait ${median(rs.map((r) => r.wait))}, model ${median(rs.map((r) => r.model))}, ` +
      `analyse ${median(rs.map((r) => r.analyse))} ms; fastest in ${won} of ${rs.length} rounds`,
  );
}
