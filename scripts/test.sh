#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   scripts/test.sh [CMAKE_ARGS...]        e.g. scripts/test.sh -DFORMWORK_GUI=OFF
# Unit tests (GoogleTest), PyTorch cross-checks (/usr/bin/python3) and, with the GUI built, the
# screenshot tests, which ctest runs under `xvfb-run -a` themselves, so no display is needed.
# Environment: FORMWORK_TEST_JOBS (default: the number of cores), FORMWORK_BUILD_DIR,
# CTEST_ARGS (extra ctest arguments, e.g. "-R gui").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FORMWORK_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$@"

jobs=${FORMWORK_TEST_JOBS:-$(nproc)}
echo "test: ctest -j $jobs"
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" ${CTEST_ARGS:-}
