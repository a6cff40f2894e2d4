#!/usr/bin/env bash
# The sanitizer build and the fuzz targets, in one Clang build directory (default build-san/):
#   scripts/sanitize.sh
# Configures Debug + ASan/UBSan + libFuzzer instrumentation (FORMWORK_FUZZ=ON, GUI off), builds,
# runs the unit tests (ctest -L unit) and the command-line end-to-end tests (py.test_e2e_*) with
# every sanitizer report fatal, then each fuzz target for FORMWORK_FUZZ_SECONDS (default 30) over
# a copy of its corpus (the repository is not modified).
# Environment: FORMWORK_SAN_DIR (build directory), FORMWORK_FUZZ_SECONDS, FORMWORK_JOBS.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FORMWORK_SAN_DIR:-$root/build-san}
jobs=${FORMWORK_JOBS:-$(nproc)}
seconds=${FORMWORK_FUZZ_SECONDS:-30}

t0=$SECONDS
CC=clang-16 CXX=clang++-16 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DFORMWORK_GUI=OFF -DFORMWORK_FUZZ=ON -DFORMWORK_SANITIZE=address,undefined >/dev/null
cmake --build "$build" -j "$jobs"
echo "sanitize: build $((SECONDS - t0)) s"

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0
t1=$SECONDS
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" -L unit
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" -R '^py\.test_e2e_'
echo "sanitize: tests $((SECONDS - t1)) s"

t2=$SECONDS
work=$(mktemp -d -t formwork-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
for target in safetensors npy graph_json project idx image space input_size; do
  mkdir -p "$work/$target"
  cp -r "$root/tests/fuzz/corpus/$target/." "$work/$target/" 2>/dev/null || true
  dict=()
  [[ -f $root/tests/fuzz/dict/$target.dict ]] && dict=(-dict="$root/tests/fuzz/dict/$target.dict")
  echo "sanitize: fuzz_$target ${seconds} s"
  (cd "$work" && "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 "${dict[@]}" "$work/$target" \
    2>&1 | tail -n 12)
done
echo "sanitize: fuzz $((SECONDS - t2)) s; total $((SECONDS - t0)) s"
