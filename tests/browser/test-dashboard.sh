#!/bin/bash
# test-dashboard.sh - acceptance 2 of the dashboard, in headless Chromium
# (Debian's chromium, installed by scripts/setup.sh --test when missing):
# `orchestra serve` and a pilot (local backend) on a fresh ORCHESTRA_HOME;
# test-dashboard.py signs in, sees a task submitted from the command line
# appear and move through its states without a reload, reads why a job
# waits, opens a job's log, retries the failed jobs from the page, and as
# an admin changes a node's slots and drains and resumes it from the
# page, checked in the database, sees a node of another name shown
# unreachable, and reads the usage chart (the pilot samples every second
# here) and the runs that ended, with their totals, under it (alice sees
# only her own: none).  Each task offers only the actions its state and
# the user allow (finalized, shown apart from done, is not killed; alice,
# no admin, acts on none of tester's), and the pilot's state is shown
# apart from the page's connection: the test stops the pilot and the
# page says so.
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
# alice's jobs wait for good, on a queue whose node offers no slot: a
# second user in the usage chart.
node_add_elsewhere n2 --queue nowhere --cpu-slots 0 >/dev/null
orch user add alice >/dev/null
ALICE_TOKEN=$(orch user token alice 2>/dev/null)
orch --user alice task submit hog --exec "true %IN" --inputs "$TMP/in" \
    --queue nowhere --skip-test >/dev/null
# alice's "next" runs after hog, which never ends here.
orch --user alice task submit next --exec "true" --after hog >/dev/null
# An hour of earlier samples, so the chart (and its screenshots) has a
# history to draw: tester's jobs come and go, alice's wait.
NOW=$(date +%s%3N)
db_query "INSERT INTO usage (at_ms, username, running, waiting)
    WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM n
    WHERE i < 58) SELECT $NOW - i * 60000, 'tester', 1 + i % 7 / 4,
    i % 5 FROM n UNION ALL SELECT $NOW - i * 60000, 'alice', 0, 4 FROM n
    WHERE i < 25" >/dev/null
PASSWORD="correct horse battery staple"
orch user passwd tester <<<"$PASSWORD" >/dev/null
TOKEN=$(orch user token tester 2>/dev/null)
serve_start
ORCHESTRA_USAGE_EVERY=1s pilot_start
pilot_wait_started

dashboard() {
	TMP="$TMP" NODE="$NODE" TOKEN="$TOKEN" PASSWORD="$PASSWORD" \
	    ALICE_TOKEN="$ALICE_TOKEN" PILOT_PID="$PILOT_PID" \
	    ARTIFACTS="$ARTIFACTS" python3 "$SRCDIR/tests/browser/test-dashboard.py" "$API" ||
	    fail "the dashboard test failed"
}
test_case "sign in, follow a task, why, log, retry, a node's slots, usage" \
    dashboard

pilot_stop
serve_stop
