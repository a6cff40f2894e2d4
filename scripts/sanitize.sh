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
  -DFORMWORK_GUI=OFF -DFORMWORK_CUDA=OFF -DFORMWORK_FUZZ=ON -DFORMWORK_SANITIZE=address,undefined >/dev/null
cmake --build "$build" -j "$jobs"
echo "sanitize: build $((SECONDS - t0)) s"

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)}
# The tests leave out their timing-only checks under a sanitizer (test_e2e_eval's full split).
export FORMWORK_SANITIZED=1
status=0
t1=$SECONDS
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" -L unit || status=1
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" --timeout 1200 \
  -R '^py\.test_(e2e_|image_input$)' || status=1
echo "sanitize: tests $((SECONDS - t1)) s"

t2=$SECONDS
work=$(mktemp -d -t formwork-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Each target over a copy of its corpus and regressions, $jobs at a time; a crash, a sanitizer
# report, a hang (-timeout) or running out of memory fails the run, and the input that did it is
# kept in $work/<target>-artifacts/ and printed.
fuzz_one() {
  local target=$1
  mkdir -p "$work/$target" "$work/$target-artifacts"
  cp -r "$root/tests/fuzz/corpus/$target/." "$work/$target/"
  [[ -d $root/tests/fuzz/regressions/$target ]] && cp -r "$root/tests/fuzz/regressions/$target/." "$work/$target/"
  if (cd "$work/$target-artifacts" && "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/$target-artifacts/" "$work/$target" >"$work/$target.log" 2>&1); then
    echo "sanitize: fuzz_$target: $(grep -m1 -E '^#[0-9]+.*DONE' "$work/$target.log" || tail -n 1 "$work/$target.log")"
  else
    echo "sanitize: fuzz_$target FAILED:"
    tail -n 40 "$work/$target.log"
    ls "$work/$target-artifacts"
    return 1
  fi
}
pids=()
targets=(safetensors npy graph_json project idx image space input_size)
for target in "${targets[@]}"; do
  fuzz_one "$target" &
  pids+=($!)
  if (( ${#pids[@]} >= jobs )); then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
echo "sanitize: fuzz $((SECONDS - t2)) s; total $((SECONDS - t0)) s"
exit "$status"
