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
	# them (jobs 9001..9050; events have no foreign keys).
	for i in $(seq 9001 9050); do
		values="$values${values:+, }(1, 'job', $i, 'running')"
	done
	db_query "INSERT INTO event (time_ms, kind, job_id, new_status)
	    VALUES $values" >/dev/null
	wait_until 5 grep -q '^data: ' "$TMP/s4"
	sse_close
	python3 - "$TMP/s4" <<'PY'
import json, sys
ev = [json.loads(l[6:]) for l in open(sys.argv[1]) if l.startswith("data: ")]
if len(ev) != 1:
    sys.exit("%d events for one burst, expected 1: %r" % (len(ev), ev))
if ev[0] != {"tasks": [], "jobs": list(range(9001, 9051)), "nodes": []}:
    sys.exit("the event does not name the 50 jobs: %r" % ev[0])
PY
}
test_case "a burst of changes is one event naming each of them" coalesced

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
