#!/usr/bin/env bash
# check.sh - the whole test suite: install what is missing, build with
# AddressSanitizer and UndefinedBehaviorSanitizer, run every test, and end
# with what the run did: the skipped tests and why, the failed ones, and
# "N passed, M skipped, K failed" (from ctest's JUnit file,
# build/dev/ctest-junit.xml).
#
#   scripts/check.sh [ctest options, e.g. -L unit or -R cli]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"
junit=$PWD/build/dev/ctest-junit.xml
rm -f "$junit"
rc=0
ctest --preset dev --output-junit "$junit" "$@" || rc=$?
echo
scripts/ctest-summary.py "$junit" || rc=1
exit "$rc"
