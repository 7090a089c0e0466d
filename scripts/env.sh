# Sourced by the scripts: puts the project's npm tools (binaryen's wasm-opt) first on PATH and
# tells Trunk and wasm-bindgen-test where things are. Nothing here downloads anything.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
export CHROMEDRIVER=/usr/bin/chromedriver
export CHROMIUM=/usr/bin/chromium
