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
# The tests run Debian's python3, which has the modules installed above
# (python3-kubernetes, python3-aiosmtpd).  A python3 earlier in PATH, such
# as a pyenv shim (a shell script: 0.26 s a start, where Debian's takes
# 0.04 s, on tests that start it hundreds of times), goes behind it.
if [ "$(command -v python3)" != /usr/bin/python3 ]; then
	mkdir -p build/python3
	ln -sfn /usr/bin/python3 build/python3/python3
	export PATH="$PWD/build/python3:$PATH"
fi
junit=$PWD/build/dev/ctest-junit.xml
rm -f "$junit"
rc=0
ctest --preset dev --output-junit "$junit" "$@" || rc=$?
echo
scripts/ctest-summary.py "$junit" || rc=1
exit "$rc"
