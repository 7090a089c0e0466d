#!/usr/bin/env bash
# `assiette-server egalim` beside pandas on the same generated national purchase CSV, in one run:
# wall time (median of RUNS, alternating) and peak memory of each, their totals compared.
#
#   tests/bench/egalim.sh [LINES=1000000] [RUNS=5]
#
# Builds the server in release, writes the file with egalim_gen.py, installs pandas from PyPI
# (pip) into a temporary virtual environment that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
lines="${1:-1000000}"
runs="${2:-5}"
cargo build --release -p assiette-server >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 tests/bench/egalim_gen.py "$lines" "$work/achats.csv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet pandas >&2
"$work/venv/bin/python" -c 'import pandas; print("pandas", pandas.__version__)' >&2
python3 tests/bench/egalim_bench.py "$work/achats.csv" "$runs" target/release/assiette-server "$work/venv/bin/python" tests/bench/egalim_pandas.py
