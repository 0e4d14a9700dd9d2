#!/bin/bash
# t0311-serve-events.sh - GET /api/v1/events, the dashboard's live
# updates as server-sent events: a task submitted from the command line
# is an event within a deadline; a reconnect with Last-Event-ID gets every
# change it missed; the session cookie works as a token does; a revoked
# token or a signed-out session ends an open stream; other requests are
# answered while streams are open.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
NODE=$(db_query "SELECT name FROM node")
NODE_ID=$(db_query "SELECT id FROM node")
orch user add alice >/dev/null
TOKEN=$(orch user token alice 2>/dev/null)
ADMIN=$(orch user token tester 2>/dev/null)
serve_start

SSE_PID=""
# Open a stream in the background, its lines in FILE, and wait until
# it is open (the server's first line, "retry: ...").
sse_open() { # FILE ARGS...
	local file=$1
	shift
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --timeout 60 "$@" >"$file" &
	SSE_PID=$!
	wait_until 20 grep -q '^retry: ' "$file"
}
sse_close() {
	kill "$SSE_PID" 2>/dev/null || :
	wait "$SSE_PID" 2>/dev/null || :
}
task_id() {
	db_query "SELECT t.id FROM task t JOIN account a ON a.id = t.account_id
	    WHERE a.username = 'alice' AND t.name = '$1'"
}
# Did the stream in FILE tell of ID among its KIND ("tasks", "nodes")?
told() { # FILE KIND ID
	python3 - "$@" <<'PY'
import json, sys
f, kind, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
for line in open(f):
    if line.startswith("data: ") and want in json.loads(line[6:])[kind]:
        sys.exit(0)
sys.exit(1)
PY
}

submit_seen() {
	local id start
	sse_open "$TMP/s1" --token "$TOKEN"
	grep -qx '# content-type text/event-stream; charset=utf-8' "$TMP/s1" ||
	    fail "not an event stream: $(head -n 1 "$TMP/s1")"
	start=$SECONDS
	orch --user alice task submit live --exec 'echo hi' >/dev/null
	id=$(task_id live)
	wait_until 5 told "$TMP/s1" tasks "$id"
	grep -qx 'event: change' "$TMP/s1" || fail "no 'event: change' line"
	grep -qx "id: $(db_query "SELECT max(id) FROM event")" "$TMP/s1" ||
	    fail "the event's id is not the event row's"
	sse_close
}
test_case "a task submitted from the command line is an event within 5 s" \
    submit_seen

resume() {
	local last a b
	sse_open "$TMP/s2" --token "$TOKEN"
	orch --user alice task submit r0 --exec 'echo hi' >/dev/null
	wait_until 5 told "$TMP/s2" tasks "$(task_id r0)"
	sse_close
	last=$(sed -n 's/^id: //p' "$TMP/s2" | tail -n 1)
	# Missed while away: two tasks and a node.
	orch --user alice task submit r1 --exec 'echo hi' >/dev/null
	orch node drain "$NODE" >/dev/null
	orch --user alice task submit r2 --exec 'echo hi' >/dev/null
	orch node resume "$NODE" >/dev/null
	sse_open "$TMP/s3" --token "$TOKEN" --last-event-id "$last"
	a=$(task_id r1)
	b=$(task_id r2)
	wait_until 5 told "$TMP/s3" tasks "$b"
	told "$TMP/s3" tasks "$a" || fail "task r1 was lost"
	told "$TMP/s3" nodes "$NODE_ID" || fail "the node's change was lost"
	! told "$TMP/s3" tasks "$(task_id r0)" || fail "r0 was sent again"
	sse_close
}
test_case "a reconnect with Last-Event-ID gets what it missed, nothing twice" \
    resume

coalesced() {
	local before values="" i
	sse_open "$TMP/s4" --token "$TOKEN"
	# A burst: 50 changes in one transaction, as a pilot cycle writes
	# them (jobs 9001..9050 of task 77 on node 5, and an account's, which
	# is none of the dashboard's business; events have no foreign keys).
	for i in $(seq 9001 9050); do
		values="$values${values:+, }(1, 'job', 77, $i, 5, 'running')"
	done
	values="$values, (1, 'account', 66, 66, 66, 'token added')"
	db_query "INSERT INTO event (time_ms, kind, task_id, job_id, node_id,
	    new_status) VALUES $values" >/dev/null
	wait_until 5 grep -q '^data: ' "$TMP/s4"
	sse_close
	python3 - "$TMP/s4" <<'PY'
import json, sys
ev = [json.loads(l[6:]) for l in open(sys.argv[1]) if l.startswith("data: ")]
if len(ev) != 1:
    sys.exit("%d events for one burst, expected 1: %r" % (len(ev), ev))
if ev[0] != {"tasks": [77], "jobs": list(range(9001, 9051)), "nodes": [5]}:
    sys.exit("the event does not name the 50 jobs, their task and node: %r"
             % ev[0])
PY
}
test_case "a burst of changes is one event naming each thing touched once" \
    coalesced

cookie() {
	local cookie csrf
	api POST /api/v1/session --body "{\"token\": \"$TOKEN\"}" \
	    --headers "$TMP/h"
	[ "$STATUS" = 200 ] || fail "sign-in: $STATUS"
	cookie=$(sed -n 's/^Set-Cookie: orchestra_session=\([^;]*\);.*/\1/p' "$TMP/h")
	csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$OUT")
	sse_open "$TMP/s5" --cookie "$cookie"
	orch --user alice task submit c1 --exec 'echo hi' >/dev/null
	wait_until 5 told "$TMP/s5" tasks "$(task_id c1)"
	api DELETE /api/v1/session --cookie "$cookie" --csrf "$csrf"
	[ "$STATUS" = 200 ] || fail "sign-out: $STATUS"
	wait_until 5 grep -qx '# closed' "$TMP/s5"
	wait "$SSE_PID" || fail "the stream did not end cleanly"
}
test_case "a stream by cookie; signing out ends it" cookie

revoked() {
	local t id
	t=$(orch user token alice 2>/dev/null)
	id=$(db_query "SELECT max(id) FROM token")
	sse_open "$TMP/s6" --token "$t"
	orch user revoke alice "$id" >/dev/null
	wait_until 5 grep -qx '# closed' "$TMP/s6"
	wait "$SSE_PID" || fail "the stream did not end cleanly"
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --token "$t" \
	    --source 127.0.2.1 >"$TMP/s7" || :
	grep -qx '# status 401' "$TMP/s7" || fail "a revoked token: $(cat "$TMP/s7")"
}
test_case "a revoked token ends its open stream" revoked

refused() {
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --source 127.0.2.2 \
	    >"$TMP/s8" || :
	grep -qx '# status 401' "$TMP/s8" || fail "no token: $(cat "$TMP/s8")"
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --token "$TOKEN" \
	    --last-event-id x1 >"$TMP/s8" || :
	grep -qx '# status 400' "$TMP/s8" || fail "a bad Last-Event-ID: $(cat "$TMP/s8")"
}
test_case "no token, or a bad Last-Event-ID, opens no stream" refused

not_blocking() {
	local i pids=""
	for i in 1 2 3 4 5 6; do
		python3 "$SRCDIR/tests/cli/sse.py" "$API" --token "$ADMIN" \
		    --timeout 60 >"$TMP/b$i" &
		pids="$pids $!"
	done
	for i in 1 2 3 4 5 6; do
		wait_until 20 grep -q '^retry: ' "$TMP/b$i"
	done
	api GET /api/v1/tasks --token "$ADMIN"
	[ "$STATUS" = 200 ] || fail "GET /tasks with streams open: $STATUS"
	# Those of earlier cases may linger: a suspended stream learns that
	# its client left at its next write.
	api GET /metrics --token "$ADMIN"
	[ "$(sed -n 's/^orchestra_http_event_streams //p' "$OUT")" -ge 6 ] ||
	    fail "/metrics: $(grep event_streams "$OUT")"
	api POST /api/v1/tasks --token "$TOKEN" \
	    --body '{"name": "while-streaming", "command": "true"}'
	[ "$STATUS" = 201 ] || fail "a submit with streams open: $STATUS"
	for i in 1 2 3 4 5 6; do
		wait_until 5 told "$TMP/b$i" tasks "$(task_id while-streaming)"
	done
	kill $pids 2>/dev/null || :
	wait $pids 2>/dev/null || :
}
test_case "open streams hold up no request, and all of them hear a change" \
    not_blocking

# Rows are seen at commit, ids taken at insert: on PostgreSQL a later id
# can be seen first.  Played here with explicit ids (so last in the
# script: the id sequence does not know of them).
late_commit() {
	local top pid
	top=$(db_query "SELECT max(id) FROM event")
	sse_open "$TMP/s10" --token "$TOKEN"
	# A second stream, already past top + 1, to know when the hub has
	# read top + 2 (the first one must then wait for top + 1).
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --token "$TOKEN" \
	    --last-event-id $((top + 1)) --timeout 60 >"$TMP/s11" &
	pid=$!
	wait_until 20 grep -q '^retry: ' "$TMP/s11"
	db_query "INSERT INTO event (id, time_ms, kind, task_id, new_status)
	    VALUES ($((top + 2)), 1, 'task', 8802, 'x')" >/dev/null
	# The hub read top + 2: commit top + 1 at once (a plain grep, so well
	# inside the 2 s the first stream waits for it), and check the order
	# the first stream told them in afterwards.
	wait_until 10 grep -q '^data: .*8802' "$TMP/s11"
	db_query "INSERT INTO event (id, time_ms, kind, task_id, new_status)
	    VALUES ($((top + 1)), 1, 'task', 8801, 'x')" >/dev/null
	wait_until 15 told "$TMP/s10" tasks 8802
	told "$TMP/s10" tasks 8801 || fail "the late row top + 1 was lost"
	python3 - "$TMP/s10" <<'PY' || fail "top + 2 was sent before top + 1"
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("data: "):
        tasks = json.loads(line[6:])["tasks"]
        if 8801 in tasks or 8802 in tasks:
            sys.exit(0 if 8801 in tasks else 1)
sys.exit(1)
PY
	# A gap that stays (a rolled-back insert) holds the stream 2 s only.
	db_query "INSERT INTO event (id, time_ms, kind, task_id, new_status)
	    VALUES ($((top + 4)), 1, 'task', 8804, 'x')" >/dev/null
	wait_until 15 told "$TMP/s10" tasks 8804
	grep -qx "id: $((top + 4))" "$TMP/s10" || fail "no id: $((top + 4))"
	sse_close
	kill "$pid" 2>/dev/null || :
	wait "$pid" 2>/dev/null || :
}
test_case "a row committed late is not lost; a lasting gap is passed" \
    late_commit

# Stopping the server with a stream open (suspended in libmicrohttpd)
# ends it cleanly: serve_stop fails on a sanitizer report or exit != 0.
python3 "$SRCDIR/tests/cli/sse.py" "$API" --token "$TOKEN" --timeout 60 \
    >"$TMP/s9" &
SSE_PID=$!
wait_until 20 grep -q '^retry: ' "$TMP/s9"
serve_stop
wait_until 10 grep -qx '# closed' "$TMP/s9"
wait "$SSE_PID" 2>/dev/null || :
test_case "stopping the server ends open streams" true
