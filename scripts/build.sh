#!/usr/bin/env bash
# Configures (Ninja, Release, GUI on) into build/ and builds. Extra arguments go to CMake:
#   scripts/build.sh -DFORMWORK_GUI=OFF -DFORMWORK_CUDA=OFF
# Environment: FORMWORK_BUILD_DIR (default: build/), FORMWORK_JOBS (default: from cores and memory).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FORMWORK_BUILD_DIR:-$root/build}

# One compile job per core, but no more than one per 2 GiB of available memory (Eigen-heavy
# translation units take over 1 GiB each).
jobs=${FORMWORK_JOBS:-}
if [[ -z $jobs ]]; then
  cores=$(nproc)
  mem_gib=$(awk '/^MemAvailable:/ {print int($2 / 1048576)}' /proc/meminfo 2>/dev/null || echo 0)
  jobs=$(( mem_gib / 2 < cores ? mem_gib / 2 : cores ))
  (( jobs >= 1 )) || jobs=1
fi

# A build directory made by another generator cannot be reused: start its cache afresh.
fresh=()
if [[ -f $build/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build/CMakeCache.txt"; then
  echo "build: $build was configured with another generator; reconfiguring it for Ninja"
  fresh=(--fresh)
fi

echo "build: configure $build (Release, Ninja) $*"
cmake "${fresh[@]}" -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFORMWORK_GUI=ON "$@"

echo "build: compile with $jobs job(s)"
cmake --build "$build" -j "$jobs"
echo "build: done ($build)"
