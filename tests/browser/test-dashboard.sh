#!/bin/bash
# test-dashboard.sh - acceptance 2 of the dashboard, in headless Chromium
# (Debian's chromium, installed by scripts/setup.sh --test when missing):
# `orchestra serve` and a pilot (local backend) on a fresh ORCHESTRA_HOME;
# test-dashboard.py signs in, sees a task submitted from the command line
# appear and move through its states without a reload, reads why a job
# waits, opens a job's log, retries the failed jobs from the page, and as
# an admin changes a node's slots from the page, checked in the database.
# Screenshots (desktop 1366x768, phone 390x844) go to $ORCHESTRA_ARTIFACTS
# (tests.cmake: build/<preset>/artifacts/browser).

. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/../cli/serve-lib.sh"

if ! command -v chromium >/dev/null; then
	"$SRCDIR/scripts/setup.sh" --test >&2 || fail "cannot install chromium"
fi
ARTIFACTS=${ORCHESTRA_ARTIFACTS:-$TMP/artifacts}
mkdir -p "$ARTIFACTS"

orch init >/dev/null
NODE=$(db_query "SELECT name FROM node")
orch node set "$NODE" --max-cpu-slots 8 --cpu-slots 2 >/dev/null
mkdir -p "$TMP/in"
printf 'good 0\n' >"$TMP/in/a0"
printf 'bad\n' >"$TMP/in/a1"
printf 'good 2\n' >"$TMP/in/a2"
printf 'good 3\n' >"$TMP/in/a3"
# The test job (0) waits for the file gate0, the others for gate1, so the
# page has time to see each state; a job fails on the input "bad" until
# the file fixed exists.  The wait in the job has a deadline of its own.
cat >"$TMP/job.sh" <<EOF
echo "start job \$1"
gate="$TMP/gate1"
[ "\$1" != 0 ] || gate="$TMP/gate0"
n=0
until [ -e "\$gate" ]; do
	n=\$((n + 1))
	[ \$n -lt 1200 ] || exit 3
	sleep 0.1
done
if grep -q bad "\$2" && [ ! -e "$TMP/fixed" ]; then
	echo "bad input \$2" >&2
	exit 1
fi
cp "\$2" "\$3/\$1.out"
echo "end job \$1"
EOF
PASSWORD="correct horse battery staple"
orch user passwd tester <<<"$PASSWORD" >/dev/null
TOKEN=$(orch user token tester 2>/dev/null)
serve_start
pilot_start
pilot_wait_started

dashboard() {
	TMP="$TMP" NODE="$NODE" TOKEN="$TOKEN" PASSWORD="$PASSWORD" \
	    ARTIFACTS="$ARTIFACTS" python3 "$SRCDIR/tests/browser/test-dashboard.py" "$API" ||
	    fail "the dashboard test failed"
}
test_case "sign in, follow a task, why, log, retry, a node's slots" dashboard

pilot_stop
serve_stop
