#!/usr/bin/env bash
# Runs the fuzz targets under AFL++ (cargo-afl), from their committed corpus, with their dictionary.
#   fuzz/afl.sh TARGET [afl-fuzz options]  one target, findings in fuzz/out/TARGET
#                                          (e.g. fuzz/afl.sh timestamps -E 10000000)
#   fuzz/afl.sh cmin TARGET                minimises out/TARGET's queue into corpus/TARGET
#   fuzz/afl.sh smoke [SECONDS]            each target for SECONDS (10) from its corpus, in a
#                                          temporary folder: fails on any crash or hang
# Targets: push_body purchase_import backup_records timestamps.
# Needs cargo-afl: `scripts/setup.sh --fuzz` installs it.
set -euo pipefail
cd "$(dirname "$0")"
TARGETS=(push_body purchase_import backup_records timestamps)

dict() {
  case "$1" in
    push_body | backup_records) echo dict/sync.dict ;;
    purchase_import) echo dict/csv.dict ;;
    timestamps) echo dict/time.dict ;;
    *) echo "unknown target: $1 (${TARGETS[*]})" >&2; exit 2 ;;
  esac
}

# No core dumps to wait for, no CPU governor to ask, no core to pin (a shared machine, CI).
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
build() { cargo afl build --release --features afl --bins >&2; }
stat() { awk -v k="$2" '$1 == k { print $3 }' "$1/default/fuzzer_stats"; }

case "${1:?usage: afl.sh TARGET [options] | cmin TARGET | smoke [SECONDS]}" in
  smoke)
    seconds=${2:-10}
    build
    out=$(mktemp -d "${TMPDIR:-/tmp}/assiette-afl-XXXXXX")
    trap 'rm -rf "$out"' EXIT
    failed=0
    for t in "${TARGETS[@]}"; do
      # -t 2000+: a slow first run on a busy machine is skipped, not fatal.
      cargo afl fuzz -i "corpus/$t" -o "$out/$t" -x "$(dict "$t")" -t 2000+ -V "$seconds" -- "target/release/$t" >"$out/$t.log" 2>&1 ||
        { tail -n 20 "$out/$t.log"; failed=1; continue; }
      crashes=$(stat "$out/$t" saved_crashes) hangs=$(stat "$out/$t" saved_hangs)
      echo "fuzz $t: $(stat "$out/$t" execs_done) executions in ${seconds} s, $(stat "$out/$t" edges_found) edges, $crashes crashes, $hangs hangs"
      if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
        failed=1
        mkdir -p "out/$t" && cp -r "$out/$t/default/crashes" "$out/$t/default/hangs" "out/$t/"
        echo "  inputs kept in fuzz/out/$t/{crashes,hangs}: replay one with target/release/$t < FILE"
      fi
    done
    exit $failed
    ;;
  cmin)
    t=${2:?target}; dict "$t" >/dev/null
    build
    # cargo-afl's `cmin` runs AFL++'s Python afl-cmin, which finds no coverage in these persistent
    # targets here; the awk one does. -e: edges only (hit counts would keep every loop length).
    bin=$(ls -d "${XDG_DATA_HOME:-$HOME/.local/share}"/afl.rs/rustc-*/afl.rs-*/afl/bin | tail -n 1)
    tmp=$(mktemp -d)
    mkdir "$tmp/in"
    # Candidates: the committed corpus and the queue of every run in out/ (out/T, out/T-run1...).
    i=0
    for f in "corpus/$t"/* out/"$t"*/default/queue/*; do
      [ -f "$f" ] && cp "$f" "$tmp/in/$((i++))-$(basename "$f" | tr -c 'A-Za-z0-9_.\n-' '_' | cut -c1-60)"
    done
    AFL_PATH=$bin "$bin/afl-cmin.awk" -e -i "$tmp/in" -o "$tmp/min" -- "target/release/$t" >"$tmp/log" 2>&1 || { tail -n 20 "$tmp/log"; exit 1; }
    # Inputs that once broke a target stay, whatever their coverage (regressions).
    cp corpus/"$t"/found-* "$tmp/min/" 2>/dev/null || true
    rm -rf "corpus/$t" && mv "$tmp/min" "corpus/$t" && rm -rf "$tmp"
    echo "corpus/$t: $(find "corpus/$t" -type f | wc -l) inputs, $(du -sh --apparent-size "corpus/$t" | cut -f1)"
    ;;
  *)
    t=$1; shift
    d=$(dict "$t")
    build
    mkdir -p "out/$t"
    # Resume from the last run's queue when there is one, else start from the corpus.
    input=corpus/$t
    [ -d "out/$t/default/queue" ] && input=-
    exec cargo afl fuzz -i "$input" -o "out/$t" -x "$d" "$@" -- "target/release/$t"
    ;;
esac
