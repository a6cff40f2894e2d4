#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   scripts/test.sh [CMAKE_ARGS...]        e.g. scripts/test.sh -DFORMWORK_GUI=OFF
# Unit tests (GoogleTest), PyTorch cross-checks (/usr/bin/python3) and, with the GUI built, the
# screenshot tests, which ctest runs under `xvfb-run -a` themselves, so no display is needed.
# Environment: FORMWORK_TEST_JOBS (default: the number of cores), FORMWORK_BUILD_DIR,
# CTEST_ARGS (extra ctest arguments, e.g. "-R gui" or "-L torch"), FORMWORK_ALLOW_SKIPS=1 (accept
# skipped tests; by default a skip other than a GPU test's fails the run: scripts/check_skips.py),
# FORMWORK_SANITIZE_TESTS=0 (leaves out scripts/sanitize.sh: the ASan/UBSan build, its tests and
# a short run of every fuzz target, which otherwise follow the other tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FORMWORK_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$@"

jobs=${FORMWORK_TEST_JOBS:-$(nproc)}
echo "test: ctest -j $jobs"
junit="$build/ctest-results.xml"
rm -f "$junit"
status=0
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" --output-junit "$junit" \
  ${CTEST_ARGS:-} || status=$?
# The set-up installed every oracle: a skipped test (other than a GPU test without a GPU) hides a
# missing check, so it fails the run (FORMWORK_ALLOW_SKIPS=1 accepts skips).
/usr/bin/python3 "$root/scripts/check_skips.py" "$build" "$junit" || status=1
# The sanitizer build and a short fuzz of every parser (scripts/sanitize.sh, build-san/).
if [[ ${FORMWORK_SANITIZE_TESTS:-1} == 1 ]]; then
  "$root/scripts/sanitize.sh" || status=1
fi
exit "$status"
