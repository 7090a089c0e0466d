#!/usr/bin/env bash
# Builds the PWA in release (Trunk, wasm-opt -Oz, precache list for the service worker, Zopfli
# gzip copies of its files) and the server binary. `scripts/build.sh` builds the server in
# release (what run.sh starts); `scripts/build.sh --debug-server` keeps the server in the debug
# profile (the test command, which has already compiled it for the host tests).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
trunk build --release
# Zopfli .gz copies of the app's files, sent as they are by the server (crates/precompress).
cargo run -q --release -p assiette-precompress -- dist
if [ "${1:-}" = "--debug-server" ]; then
  cargo build -p assiette-server
else
  cargo build --release -p assiette-server
fi
