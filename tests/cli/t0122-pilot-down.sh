#!/bin/bash
# t0122-pilot-down.sh - with no pilot running, everyone says so (issue 16):
# `task submit` exits 0 with one warning line on stderr ("last cycle N
# ago"), the why of a waiting job in `task show` and `queue` begins "no
# pilot is running (last cycle <time> UTC)", then says what else it
# waits for, `node list` shows
# the node's state as unknown rather than ready, and GET /api/v1/pilot
# says running false with why (the remote command line warns from it),
# /readyz too (200: serve is ready, and its body says the pilot is down).
# With a pilot running none of them does.  A pilot that stops on a
# signal says so at once; one that dies says nothing and is taken for
# down after three periods (ORCHESTRA_TEST_NOW_OFFSET moves the clock).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
echo data >"$TMP/in.txt"
orch user add alice --unix-user "$ME" >/dev/null

never_ran() {
	expect_exit 0 orch --user alice task submit t1 --exec 'true %IN' \
	    --inputs "$TMP/in.txt"
	expect_stderr_line "^orchestra: warning: no pilot is running \(none has run yet\): nothing starts until one runs \('orchestra pilot'\)$"
	expect_exit 0 orch --user alice task show t1
	expect_stdout_contains "no pilot is running (none has run yet)"
	expect_exit 0 orch queue
	expect_stdout_contains "no pilot is running (none has run yet)"
	expect_exit 0 orch node list
	expect_stdout_contains "unknown (no pilot)"
	# status: exit 3, as systemctl status of a service not running.
	expect_exit 3 orch status
	expect_stdout_line "^pilot: +DOWN: no pilot is running \(none has run yet\)$"
	expect_stdout_line "^backend: +local$"
	expect_stdout_line "^database: +sqlite |^database: +postgresql$"
	expect_stdout_line "^jobs: +1 registered$"
}
test_case "no pilot ever ran: submit warns, show, queue, node list and status say so" \
    never_ran

pilot_start --interval 1
pilot_wait_started
# Its first cycle has run and recorded its beat.
beat_written() {
	[ "$(db_value "SELECT count(*) FROM pilot_beat WHERE stopped_ms IS NULL")" = 1 ]
}
wait_until 60 beat_written

running() {
	expect_exit 0 orch --user alice task submit t2 --exec 'sleep 60 %IN' \
	    --inputs "$TMP/in.txt"
	expect_stderr_empty
	expect_exit 0 orch node list
	if grep -q "no pilot" "$OUT"; then
		fail "node list says no pilot with one running"
	fi
	expect_exit 0 orch queue
	if grep -q "no pilot" "$OUT"; then
		fail "queue says no pilot with one running"
	fi
	expect_exit 0 orch status
	expect_stdout_line "^pilot: +running on $(hostname), pid $PILOT_PID, since "
	expect_stdout_line "^nodes: +1: 1 ready, 0 unhealthy, 0 unreachable, 0 drained$"
	expect_exit 0 orch status --json
	json_check 'd["pilot"]["running"] is True and d["pilot"]["why"] is None
	    and d["pilot"]["interval_ms"] == 1000 and d["nodes"]["total"] == 1
	    and d["mail"]["waiting"] is False and
	    sum(d["jobs"].values()) == 2 and len(d["jobs"]) == 9'
}
test_case "with a pilot running, nobody says it is down; status says running" \
    running

serve_start
readyz_running() {
	api GET /readyz
	[ "$STATUS" = 200 ] || fail "GET /readyz: $STATUS"
	api_json 'd == {"status": "ok", "pilot": "running"}'
}
test_case "/readyz with a pilot running says so" readyz_running
serve_stop

pilot_stop

stopped() {
	expect_exit 0 orch --user alice task submit t3 --exec 'true %IN' \
	    --inputs "$TMP/in.txt"
	expect_stderr_line "^orchestra: warning: no pilot is running \(last cycle [0-9]+s ago\): "
	expect_exit 0 orch --user alice task show t3
	expect_stdout_contains "no pilot is running (last cycle "
	# First, then what else it waits for once a pilot runs.
	if ! grep -Eq "no pilot is running \(last cycle [0-9-]+ [0-9:]+ UTC\); its task waits for the scheduler" "$OUT"; then
		fail "task show does not say no pilot runs, first"
	fi
	expect_exit 0 orch node list
	expect_stdout_contains "unknown (no pilot)"
}
test_case "a stopped pilot: submit warns, show and node list say so" stopped

# A pilot that dies says nothing: down once silent three periods (60 s
# at least).  Its stop mark is taken away, as a crash leaves none.
died() {
	db_query "UPDATE pilot_beat SET stopped_ms = NULL" >/dev/null
	expect_exit 0 orch node list
	if grep -q "no pilot" "$OUT"; then
		fail "down at once without a stop mark"
	fi
	ORCHESTRA_TEST_NOW_OFFSET=2h expect_exit 0 orch --user alice \
	    task submit t4 --exec 'true %IN' --inputs "$TMP/in.txt"
	expect_stderr_line "^orchestra: warning: no pilot is running \(last cycle (1[2-9][0-9]m|2h) ago\): "
}
test_case "a pilot silent three periods is down" died

# The API, as the dashboard and the remote command line read it.
TOKEN=$(orch user token alice 2>/dev/null)
# Its clock too is two hours on: the dead pilot's beat is stale there.
ORCHESTRA_TEST_NOW_OFFSET=2h serve_start

api_says() {
	api GET /api/v1/pilot --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "GET /api/v1/pilot: $STATUS"
	api_json 'd["running"] is False and
	    d["why"].startswith("no pilot is running (last cycle ") and
	    d["last_cycle"] is not None and d["stopped"] is None and
	    d["interval_ms"] == 1000'
	api GET /readyz
	[ "$STATUS" = 200 ] || fail "GET /readyz: $STATUS"
	api_json 'd["status"] == "ok" and d["pilot"] == "down" and
	    d["why"].startswith("no pilot is running (last cycle ")'
	ORCHESTRA_URL=$API ORCHESTRA_TOKEN=$TOKEN ORCHESTRA_TEST_NOW_OFFSET=2h \
	    expect_exit 0 orch task submit t5 --exec 'true %IN' \
	    --inputs "$TMP/in.txt"
	expect_stderr_line "^orchestra: warning: no pilot is running \(last cycle [0-9]+[smh] ago\): "
	ORCHESTRA_URL=$API ORCHESTRA_TOKEN=$TOKEN \
	    expect_exit 3 orch status --json
	json_check 'd["pilot"]["running"] is False and
	    d["pilot"]["why"].startswith("no pilot is running (last cycle ")'
	ORCHESTRA_URL=$API ORCHESTRA_TOKEN=$TOKEN expect_exit 3 orch status
	expect_stdout_line "^pilot: +DOWN: no pilot is running \(last cycle "
}
test_case "GET /api/v1/pilot and remote status say so; the remote submit warns" \
    api_says

serve_stop
