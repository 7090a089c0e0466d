#!/usr/bin/env bash
# Runs every test layer: (a) host tests of the workspace, (b) browser tests (wasm-bindgen-test in
# headless Chromium), (c) end-to-end scripts against the release build served by the real server.
# Usage: scripts/test.sh [host|browser|e2e]...   (no argument: all layers, in that order)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
# Every temporary file of the tests (SQLite databases, static folders, browser profiles, test
# binaries' scratch files) goes under one folder, removed at the end whether tests pass or fail.
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/assiette-tests-XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT

layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(host browser e2e)
failed=()

run_layer() {
  local name=$1; shift
  printf '\n\033[1m== %s ==\033[0m\n' "$name"
  if "$@"; then echo "[$name] ok"; else echo "[$name] FAILED"; failed+=("$name"); fi
}

host() {
  # The server's story test also runs on PostgreSQL when scripts/pg.sh can start one.
  # A PostgreSQL that fails to start fails the layer: the story test must run on both databases.
  local pg_env
  pg_env=$(scripts/pg.sh start) || { echo "PostgreSQL n'a pas démarré (scripts/pg.sh start)"; return 1; }
  eval "$pg_env"
  cargo test --workspace || return 1
  # The fuzz targets' short run: their committed corpus and a few thousand seeded mutations,
  # without AFL (its own package; the workspace's build folder, so dependencies are reused).
  # The coverage-guided runs: fuzz/README.md.
  CARGO_TARGET_DIR="$PWD/target" cargo test --manifest-path fuzz/Cargo.toml
}

browser() {
  cargo test -p assiette --target wasm32-unknown-unknown
}

e2e() {
  scripts/build.sh --debug-server || return 1
  local status=0
  ASSIETTE_SERVER_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/assiette-server" node tests/e2e/run.mjs || status=1
  # TLS at a reverse proxy: docs/deploy/nginx.conf in front of the same binary, loopback only.
  # (Run even when a browser test failed; either failure fails the layer.)
  tests/deploy/nginx_tls.sh "${CARGO_TARGET_DIR:-$PWD/target}/debug/assiette-server" || status=1
  return $status
}

for layer in "${layers[@]}"; do
  case "$layer" in
    host) run_layer host host ;;
    browser) run_layer browser browser ;;
    e2e) run_layer e2e e2e ;;
    *) echo "couche inconnue : $layer (host, browser ou e2e)" >&2; exit 2 ;;
  esac
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "Échec : ${failed[*]}"
  exit 1
fi
echo "Toutes les couches de tests sont passées : ${layers[*]}"
