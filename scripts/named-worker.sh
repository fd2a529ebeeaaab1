#!/usr/bin/env bash
# Copies the built page (dist/, from `cargo xtask web`) to DIR with a worker that keeps its function
# names, optimised by wasm-opt as index.html has trunk optimise the worker (the same level and
# flags, but not stripped): for the bench tools that name functions (page-trace.mjs --profile,
# compile-times.mjs, optimise-times.mjs), given as PODREACH_DIST=DIR. Without the page's
# `--one-caller-inline-max-function-size=100`, wasm-opt inlines the run's phases into a few large
# functions and the names and compile times are not the page's (BENCHMARKS.md item 63).
# Usage: scripts/named-worker.sh DIR
set -euo pipefail
dir=${1:?usage: scripts/named-worker.sh DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
wasm="$root/target/wasm-bindgen/release/worker_bg.wasm"
[ -f "$root/dist/index.html" ] && [ -f "$wasm" ] || { echo "named-worker: run \`cargo xtask web\` first" >&2; exit 1; }
line=$(grep 'data-bin="worker"' "$root/index.html")
level=$(sed -n 's/.*data-wasm-opt="\([^"]*\)".*/\1/p' <<<"$line")
params=$(sed -n 's/.*data-wasm-opt-params="\([^"]*\)".*/\1/p' <<<"$line" | sed 's/--strip-debug//; s/--strip-producers//; s/^ *//')
rm -rf "$dir"
cp -r "$root/dist" "$dir"
# shellcheck disable=SC2086
wasm-opt "-O$level" -g $params --enable-bulk-memory --enable-nontrapping-float-to-int "$wasm" -o "$dir/worker_bg.wasm"
echo "named-worker: $dir (wasm-opt -O$level -g $params)"
