#!/usr/bin/env bash
# check.sh - the whole test suite: install what is missing, build with
# AddressSanitizer and UndefinedBehaviorSanitizer, run every test.
#
#   scripts/check.sh [ctest options, e.g. -L unit or -R cli]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev "$@"
