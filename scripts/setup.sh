#!/usr/bin/env bash
# Installs what Assiette needs to build, run and test, and skips what is already there.
# Used by scripts/run.sh, scripts/test.sh and .ci/run. Idempotent: a second run takes seconds.
# Every tool comes from a package registry (cargo's, apt's, npm's); nothing else is downloaded.
# `--fuzz` also installs cargo-afl, for the coverage-guided fuzz runs (fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ=0
[ "${1:-}" = --fuzz ] && FUZZ=1

TRUNK_VERSION=0.21.14
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# The wasm-bindgen CLI must match the library in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "wasm-bindgen introuvable dans Cargo.lock" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Debian packages: Chromium and its driver for browser tests, Firefox ESR and WebKitGTK's
# WebDriver (MiniBrowser under Xvfb) for the kitchen day in the other engines, PostgreSQL for the
# server's story test, nginx for the reverse-proxy example (tests/deploy/nginx_tls.sh; its
# package does not start it: that test runs its own instance on loopback ports).
need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v firefox-esr >/dev/null || need_apt+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || need_apt+=(webkit2gtk-driver)
command -v xvfb-run >/dev/null || need_apt+=(xvfb)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v nginx >/dev/null || need_apt+=(nginx)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "cargo install trunk $TRUNK_VERSION (a few minutes, once)"
  # 0.22 needs a newer rustc; --locked keeps the dependency set that was tested.
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # No --locked: its own lockfile pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# AFL++ for Rust, built from the sources the crate ships (≈ 6 min once, on a busy machine); its
# version matches the fuzz package's `afl` runtime.
AFL_VERSION=$(awk '/^name = "afl"$/ { getline; gsub(/version = |"/, ""); print; exit }' fuzz/Cargo.lock)
if [ "$FUZZ" = 1 ] && [ "$(cargo afl --version 2>/dev/null | awk '{ print $2 }')" != "$AFL_VERSION" ]; then
  say "cargo install cargo-afl $AFL_VERSION (AFL++ built from source, a few minutes, once)"
  cargo install cargo-afl --version "$AFL_VERSION" --locked
fi

# npm tools from the lockfile: playwright-core (drives /usr/bin/chromium) and binaryen's wasm-opt.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.assiette-lock; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.assiette-lock
fi
# Download every crate of the lockfile for every target (Trunk builds with --offline).
cargo fetch --locked >/dev/null 2>&1 || cargo fetch
say "ready (trunk $TRUNK_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION, $(chromium --version 2>/dev/null | head -n1))"
