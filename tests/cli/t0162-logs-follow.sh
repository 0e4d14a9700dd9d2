#!/bin/bash
# t0162-logs-follow.sh - `task logs --follow` prints a running job's log
# as it grows and exits 0 once the job has ended and all of it is
# printed, on the database and through ORCHESTRA_URL alike; `--tail N`
# counts lines, as the API's ?lines= does, while ?tail= still counts
# bytes; ?from= serves the log from a byte on, and headers say where the
# part ends, the log's size, the attempt and whether the job has ended.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
lib_backend_ready
TOKEN=$(orch user token tester 2>/dev/null)
serve_start
pilot_start
pilot_wait_started

remote() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
	    ORCHESTRA_DB="sqlite:$TMP/absent.db" "$ORCHESTRA_BIN" "$@"
}

has_line() {
	grep -qx -- "$2" "$1" 2>/dev/null
}

# NAME HOW: a task whose one job prints "first", waits for the file
# $TMP/NAME.gate, prints "second" and ends; its log is followed (HOW:
# orch, or remote) from before the job starts writing to after it ends.
follow() {
	local name=$1 how=$2 pid rc=0
	orch task submit "$name" --skip-test --exec "echo first;
	    while [ ! -e '$TMP/$name.gate' ]; do sleep 0.05; done;
	    echo second" >/dev/null 2>&1
	wait_until 60 job_started "$name"
	"$how" task logs "$name" 0 --follow >"$TMP/$name.out" \
	    2>"$TMP/$name.err" &
	pid=$!
	wait_until 30 has_line "$TMP/$name.out" first
	# The job still runs: the follower waits for more, and has not
	# printed "second" (the job has not written it).
	kill -0 "$pid" 2>/dev/null || fail "--follow exited while the job ran"
	has_line "$TMP/$name.out" second && fail "second before the gate"
	: >"$TMP/$name.gate"
	wait_until 60 follower_gone "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "--follow exited $rc: $(cat "$TMP/$name.err")"
	[ ! -s "$TMP/$name.err" ] || fail "stderr: $(cat "$TMP/$name.err")"
	printf 'first\nsecond\n' | cmp -s - "$TMP/$name.out" ||
	    fail "followed: '$(cat "$TMP/$name.out")'"
	wait_until 60 task_is "$name" done
}

job_started() {
	[ "$(db_value "SELECT j.attempts FROM job j JOIN task t
	    ON t.id = j.task_id WHERE t.name = '$1'")" -ge 1 ] 2>/dev/null
}

follower_gone() {
	! kill -0 "$1" 2>/dev/null
}

test_case "task logs --follow follows the log until the job ends" \
    follow fl orch
test_case "task logs --follow through ORCHESTRA_URL" follow fr remote

ended() {
	# Followed once the job has ended: its log, then exit at once.
	expect_exit 0 orch task logs fl 0 --follow
	printf 'first\nsecond\n' | cmp -s - "$OUT" || fail "'$(cat "$OUT")'"
	expect_exit 0 remote task logs fl 0 --follow --tail 1
	[ "$(cat "$OUT")" = second ] || fail "remote --tail 1: '$(cat "$OUT")'"
}
test_case "--follow of an ended job prints its log and exits" ended

tail_lines() {
	orch task submit lines --skip-test \
	    --exec 'printf "one\ntwo\nthree\nfour\nfive"' >/dev/null 2>&1
	wait_until 60 task_is lines done
	for how in orch remote; do
		expect_exit 0 "$how" task logs lines --tail 2
		[ "$(cat "$OUT")" = "$(printf 'four\nfive')" ] ||
		    fail "$how --tail 2: '$(cat "$OUT")'"
		expect_exit 0 "$how" task logs lines --tail 9
		[ "$(cat "$OUT")" = "$(printf 'one\ntwo\nthree\nfour\nfive')" ] ||
		    fail "$how --tail 9: '$(cat "$OUT")'"
		expect_exit 0 "$how" task logs fl --tail 1
		[ "$(cat "$OUT")" = second ] ||
		    fail "$how --tail 1 (newline-ended): '$(cat "$OUT")'"
	done
	expect_exit 2 orch task logs lines --tail -1
	expect_stderr_usage "invalid --tail -1"
}
test_case "--tail N counts lines, on the database and remotely" tail_lines

api_parts() {
	local base=/api/v1/tasks/tester/lines/jobs/0/log
	api GET "$base?lines=3" --token "$TOKEN"
	[ "$STATUS" = 200 ] && [ "$(cat "$OUT")" = "$(printf 'three\nfour\nfive')" ] ||
	    fail "?lines=3: $STATUS '$(cat "$OUT")'"
	api GET "$base?tail=3" --token "$TOKEN"
	[ "$(cat "$OUT")" = ive ] || fail "?tail=3 (bytes): '$(cat "$OUT")'"
	api GET "$base?from=8&max=5" --token "$TOKEN"
	[ "$(cat "$OUT")" = "$(printf 'three')" ] ||
	    fail "?from=8&max=5: '$(cat "$OUT")'"
	# The headers, as a follower reads them.
	python3 -c 'import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + sys.argv[2],
    headers={"Authorization": "Bearer " + sys.argv[3]})
with urllib.request.urlopen(req, timeout=30) as r:
    h = r.headers
    got = (h["Orchestra-Log-End"], h["Orchestra-Log-Size"],
        h["Orchestra-Job-Attempt"], h["Orchestra-Job-Ended"], r.read())
want = ("13", "23", "1", "1", b"three")
assert got == want, got' "$API" "$base?from=8&max=5" "$TOKEN" ||
	    fail "the log's headers"
	api GET "$base?lines=0" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "?lines=0: $STATUS"
	api GET "$base?from=-1" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "?from=-1: $STATUS"
}
test_case "the API serves a log's lines, bytes and parts" api_parts

pilot_stop
serve_stop
lib_finish
