#!/usr/bin/env bash
# Release build of the PWA (Trunk, wasm-opt -Oz, precache list for the service worker) and of the server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
trunk build --release
cargo build --release -p assiette-server
