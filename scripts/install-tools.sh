#!/usr/bin/env bash
# Installs every tool the tests and the web build need, and nothing that is already there.
# Versions are pinned here and must match Cargo.lock (wasm-bindgen) and Trunk.toml (trunk).
set -euo pipefail

TRUNK_VERSION=0.21.14
CARGO_DENY_VERSION=0.20.2
CARGO_FUZZ_VERSION=0.13.2
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132

export PATH="$HOME/.cargo/bin:$PATH"
cd "$(dirname "$0")/.."
log() { echo "install-tools: $*" >&2; }

rustup show active-toolchain >/dev/null 2>&1 || true
# rust-toolchain.toml names the channel and the wasm32 target; this makes rustup fetch them.
rustup target add wasm32-unknown-unknown >/dev/null

# Node.js and npm come with the machine (Debian's nodejs is older than playwright-core's 20).
if ! command -v npm >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
  log "node 20 or newer and npm are needed (the e2e tests' playwright-core, binaryen); install them first"
  exit 1
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v jq >/dev/null || [ ! -x /usr/bin/time ] || ! command -v g++ >/dev/null || ! command -v python3 >/dev/null; then
  log "installing chromium, chromium-driver, jq, time, g++ and python3 (apt; g++ builds libFuzzer; jq and python3 are benchmark contenders)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver jq time g++ python3 >/dev/null
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  log "installing trunk $TRUNK_VERSION (takes a few minutes)"
  cargo install -q --locked trunk --version "$TRUNK_VERSION" --force
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version_$BINARYEN_VERSION"; then
  log "installing binaryen@$BINARYEN_VERSION (wasm-opt) from npm"
  npm install -g --silent "binaryen@$BINARYEN_VERSION" >/dev/null
fi

if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
  log "installing cargo-deny $CARGO_DENY_VERSION (takes a few minutes)"
  cargo install -q --locked cargo-deny --version "$CARGO_DENY_VERSION" --force
fi

if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install -q --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" --force
fi
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal

if [ -f tests/e2e/package.json ] && [ ! -d tests/e2e/node_modules/playwright-core ]; then
  log "installing the e2e test dependencies (npm ci)"
  (cd tests/e2e && npm ci --silent --no-audit --no-fund)
fi
log "tools ready"
