#!/usr/bin/env bash
# Usage: tests/bench/wasm-size/build.sh <cargo-target-dir> <out-dir>   (run from a checkout of the app)
# Where the kitchen wasm's bytes go. Builds the release wasm as Trunk does (without the default
# `office` feature, as index.html asks; plus v0 symbol names, which
# keep generic arguments), prints the GNU gzip -9 size of the wasm after wasm-opt -Oz, and
# writes <out-dir>/funcs.pkl: per-function sizes after -Oz with demangled names (needs
# rustfilt: `cargo install rustfilt`), read by top.py and by_item.py:
#   FUNCS=<out-dir>/funcs.pkl python3 tests/bench/wasm-size/top.py 'LocalResource|Action' 30
set -euo pipefail
T=$1; O=$2; mkdir -p "$O"
. scripts/env.sh
CARGO_TARGET_DIR=$T RUSTFLAGS='--cfg getrandom_backend="wasm_js" --cfg erase_components -C symbol-mangling-version=v0' \
  cargo build -q --profile wasm-release --target wasm32-unknown-unknown --bin assiette --no-default-features
W=$T/wasm32-unknown-unknown/wasm-release/assiette.wasm
rm -rf "$O/bg"; wasm-bindgen --target web --out-dir "$O/bg" "$W"
F="--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals"
wasm-opt -Oz $F "$O/bg/assiette_bg.wasm" -o "$O/strip.wasm"
wasm-opt -Oz -g $F "$O/bg/assiette_bg.wasm" -o "$O/names.wasm"
python3 "$(dirname "$0")/functions.py" "$O/names.wasm" "$O/funcs.pkl"
echo "wasm raw $(stat -c %s "$O/strip.wasm") gzip-9 $(gzip -9 -c "$O/strip.wasm" | wc -c) js-gzip-9 $(gzip -9 -c "$O/bg/assiette.js" | wc -c)"
