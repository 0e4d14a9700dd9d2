#!/usr/bin/env bash
# skip-code.sh - a skipped test says so to ctest (issue 15):
#
#   every test registered (ctest --show-only=json-v1 of the build tree
#   BUILD_DIR) has SKIP_RETURN_CODE 77;
#   every "# skip: ..." a test script under tests/ prints is followed by
#   exit 77 (shell) or sys.exit(77) (Python), so that none prints it and
#   passes; a case skipped within a script goes through lib.sh's
#   test_skip, and a Python suite with a skipped test exits 77 too.
#
#   tests/lint/skip-code.sh BUILD_DIR
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: skip-code.sh BUILD_DIR" >&2; exit 2; }
build=$1
cd "$(dirname "$0")/../.." || exit 1
fail=0
bad() { echo "not ok - $*"; fail=1; }

if ! json=$(ctest --test-dir "$build" --show-only=json-v1); then
	echo "not ok - ctest --show-only=json-v1 failed in $build"
	exit 1
fi
missing=$(printf '%s' "$json" | python3 -c '
import json, sys
tests = json.load(sys.stdin)["tests"]
if not tests:
    print("(no test registered)")
for t in tests:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    if props.get("SKIP_RETURN_CODE") != 77:
        print(t["name"])
') || bad "cannot read ctest's test list"
for t in $missing; do
	bad "test $t has no SKIP_RETURN_CODE 77"
done
[ -n "$missing" ] || echo "ok - every registered test has SKIP_RETURN_CODE 77"

# Each "# skip" printed by hand is followed, within three lines, by its
# exit 77.
while IFS=: read -r file line _; do
	if ! sed -n "$line,$((line + 3))p" "$file" |
	    grep -Eq 'exit 77|sys\.exit\(77'; then
		bad "$file:$line prints '# skip' without exit 77"
	fi
done < <(grep -rnE "(echo|print)[ (]+['\"]# skip:" tests --include='*.sh' \
    --include='*.py')
[ "$fail" -ne 0 ] || echo "ok - every '# skip' printed exits 77"

# Python suites: unittest.main() alone exits 0 with tests skipped.
for file in $(grep -rlE '^ *unittest\.main\(' tests --include='*.py'); do
	grep -q 'sys.exit(77' "$file" ||
	    bad "$file: unittest exits 0 when a test is skipped: exit 77"
done
exit $fail
