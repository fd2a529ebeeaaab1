// One run of page-bench.mjs in a child process, for the bench tools that compare or trace runs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const here = path.dirname(fileURLToPath(import.meta.url));

/// Runs page-bench.mjs with `args` and extra environment `env`; returns its JSON line and its
/// stderr, or ends this process with page-bench's status when it fails.
export function pageBench(args, env = {}) {
  const run = spawnSync(process.execPath, [path.join(here, 'page-bench.mjs'), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (run.status !== 0) {
    process.stderr.write(run.stderr);
    process.exit(run.status ?? 1);
  }
  return { result: JSON.parse(run.stdout.trim().split('\n').pop()), stderr: run.stderr };
}
