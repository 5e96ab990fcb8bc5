#!/bin/bash
# Coverage-guided runs of the fuzz targets with clang's libFuzzer (ASan + UBSan), beyond the
# replay-and-mutate runs CI does with tests/fuzz/fuzz_driver.cpp:
#
#   tests/fuzz/libfuzzer.sh [--seconds N] [--build DIR] [--out DIR] [TARGET...]
#
# TARGET: fuzz_tsp_session, fuzz_scram, ... (default: every fuzz target). Each runs N seconds
# (default 300) on one core, starting from a copy of its corpus in tests/fuzz/corpus (the
# repository's corpus is never written). What a run finds (crash-*, leak-*, timeout-*) is left
# in OUT/TARGET/ with the log; replay one with `OUT/bin/TARGET FILE`, or with the CI build's
# target (`build/.../fuzz_x FILE -runs=0`), and add it to the corpus with the fix.
# Needs clang (apt-get install clang); exits 1 if any target found something.
set -euo pipefail

seconds=300
build=/tmp/tspbroker-libfuzzer-build
out=/tmp/tspbroker-libfuzzer
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
src=$(cd "$(dirname "$0")/../.." && pwd)

# Every object instrumented for coverage; the targets are then linked against libFuzzer's main
# instead of fuzz_driver.cpp's.
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" "$src" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
    -Db_lundef=false -Dcpp_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" >/dev/null
fi
mapfile -t all < <(ninja -C "$build" -t targets all | grep -oE '^[^ ]*/fuzz_[a-z0-9_]+(: )' | sed 's/: $//' | sort -u)
[ ${#targets[@]} -gt 0 ] || for t in "${all[@]}"; do targets+=("$(basename "$t")"); done

mkdir -p "$out/bin"
found=0
for name in "${targets[@]}"; do
  path=""
  for t in "${all[@]}"; do [ "$(basename "$t")" = "$name" ] && path=$t; done
  [ -n "$path" ] || { echo "$name: no such fuzz target" >&2; exit 2; }
  ninja -C "$build" "$path" >/dev/null
  link=$(ninja -C "$build" -t commands "$path" | tail -1)
  link=$(echo "$link" | sed -E "s# [^ ]*fuzz_driver\.cpp\.o# #; s# -o $path # -o $out/bin/$name #")
  (cd "$build" && eval "$link -fsanitize=fuzzer")

  corpus="$out/corpus/$name"
  mkdir -p "$corpus" "$out/$name"
  cp -n "$src/tests/fuzz/corpus/${name#fuzz_}/"* "$corpus/" 2>/dev/null || true
  set +e
  (cd "$out/$name" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$out/bin/$name" "$corpus" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=8192 \
    -artifact_prefix="$out/$name/" -print_final_stats=1 >"$out/$name/log.txt" 2>&1)
  status=$?
  set -e
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$out/$name/log.txt" | grep -oE '[0-9]+$' || echo "?")
  cov=$(grep -oE 'cov: [0-9]+' "$out/$name/log.txt" | tail -1 | grep -oE '[0-9]+' || echo "?")
  artifacts=$(ls "$out/$name" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
  if [ $status -eq 0 ] && [ -z "$artifacts" ]; then
    echo "$name: ${seconds}s, $runs runs, coverage $cov edges, nothing found"
  else
    found=1
    echo "$name: FOUND (exit $status): $(echo $artifacts) -- see $out/$name/log.txt"
  fi
done
exit $found
