#!/usr/bin/env bash
# Builds the PWA in release (Trunk, wasm-opt -Oz: the kitchen bundle into dist/, the office
# bundle into dist/bureau/, the territory bundle into dist/territoire/; the service worker's file lists; Zopfli gzip copies of every file)
# and the server binary. `scripts/build.sh` builds the server in
# release (what run.sh starts); `scripts/build.sh --debug-server` keeps the server in the debug
# profile (the test command, which has already compiled it for the host tests).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# The kitchen bundle first: Trunk empties its dist folder, dist/bureau/ included.
trunk build --release
trunk build bureau.html --release --dist dist/bureau --public-url /bureau/
trunk build territoire.html --release --dist dist/territoire --public-url /territoire/
node scripts/sw-precache.mjs dist
# Zopfli .gz copies of the app's files, sent as they are by the server (crates/precompress).
cargo run -q --release -p assiette-precompress -- dist
if [ "${1:-}" = "--debug-server" ]; then
  cargo build -p assiette-server
else
  cargo build --release -p assiette-server
fi
