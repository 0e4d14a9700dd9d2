#!/bin/bash
# t0330-usage.sh - the usage history: the pilot samples running and
# waiting jobs per user (ORCHESTRA_USAGE_EVERY shortens the minute), writes
# one row of zeros when a user's jobs are gone and nothing more while the
# user stays idle, and deletes samples older than 8 days;
# GET /api/v1/usage returns them, filtered by time and user, and refuses
# a period over 8 days, too many samples, a bad time and an unknown user.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
NODE=$(db_query "SELECT name FROM node")
orch node set "$NODE" --max-cpu-slots 8 --cpu-slots 2 >/dev/null
orch user add alice >/dev/null
mkdir -p "$TMP/in"
for i in 0 1 2; do
	: >"$TMP/in/f$i"
done
# tester's jobs hold their slots until the gate opens: 2 running, 1 waits.
printf 'while [ ! -e "%s/gate" ]; do sleep 0.05; done\n' "$TMP" >"$TMP/job.sh"
orch task submit gated --exec "sh $TMP/job.sh %IN" --inputs "$TMP/in" \
    --skip-test >/dev/null
# alice's wait for good: the node of queue "nowhere" offers no slot.
node_add_elsewhere n2 --queue nowhere --cpu-slots 0 >/dev/null
orch --user alice task submit stuck --exec "true %IN" --inputs "$TMP/in" \
    --queue nowhere --skip-test >/dev/null
NOW=$(date +%s%3N)
# A sample 9 days old, which the pilot's first sample deletes.
db_query "INSERT INTO usage VALUES ($((NOW - 9 * 86400000)), 'alice', 1, 0)" \
    >/dev/null

bad_every() {
	ORCHESTRA_USAGE_EVERY=0 expect_exit 1 orch pilot --once
	expect_stderr_line "orchestra: invalid ORCHESTRA_USAGE_EVERY '0': .*"
	ORCHESTRA_USAGE_EVERY=1x expect_exit 1 orch pilot --once
	expect_stderr_line "orchestra: invalid ORCHESTRA_USAGE_EVERY '1x': .*"
	[ "$(db_query "SELECT count(*) FROM usage")" = 1 ] ||
	    fail "a refused pilot sampled"
}
test_case "a bad ORCHESTRA_USAGE_EVERY is refused" bad_every

ORCHESTRA_USAGE_EVERY=1s pilot_start
pilot_wait_started

rows_of() { # USER RUNNING WAITING: that sample was taken
	[ "$(db_value "SELECT count(*) FROM usage WHERE username = '$1'
	    AND running = $2 AND waiting = $3")" -ge 1 ]
}
samples_after_zero() { # alice has N samples after tester's zero row
	[ "$(db_value "SELECT count(*) FROM usage WHERE username = 'alice'
	    AND at_ms > (SELECT max(at_ms) FROM usage WHERE username = 'tester'
	    AND running = 0 AND waiting = 0)")" -ge "$1" ]
}

sampling() {
	wait_until 60 rows_of tester 2 1
	wait_until 60 rows_of alice 0 3
	[ "$(db_value "SELECT count(*) FROM usage WHERE at_ms < $NOW")" = 0 ] ||
	    fail "the sample of 9 days ago is still there"
	touch "$TMP/gate"
	wait_until 60 task_is gated done
	wait_until 60 rows_of tester 0 0
	# alice's samples go on; tester, idle, writes no more rows.
	wait_until 60 samples_after_zero 3
	[ "$(db_value "SELECT count(*) FROM usage WHERE username = 'tester'
	    AND running = 0 AND waiting = 0")" = 1 ] ||
	    fail "an idle user keeps writing rows"
	# One row per user and sample.
	[ "$(db_value "SELECT count(*) FROM (SELECT at_ms FROM usage
	    GROUP BY at_ms HAVING count(*) > 2) x")" = 0 ] ||
	    fail "a sample with more than one row per user"
}
test_case "the pilot samples running and waiting jobs per user" sampling

pilot_stop
TOKEN=$(orch user token alice 2>/dev/null)
serve_start

api_rows() {
	api GET /api/v1/usage --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "GET /api/v1/usage: $STATUS $(cat "$OUT")"
	api_json 'set(s["user"] for s in d["samples"]) == {"alice", "tester"}
	    and {(s["running"], s["waiting"]) for s in d["samples"]
	    if s["user"] == "tester"} >= {(2, 1), (0, 0)}
	    and all(s["at"].endswith("Z") and len(s["at"]) == 20
	    for s in d["samples"])
	    and [s["at"] for s in d["samples"]] == sorted(s["at"]
	    for s in d["samples"])'
	api GET '/api/v1/usage?user=alice' --token "$TOKEN"
	api_json 'd["samples"] and all(s["user"] == "alice" and
	    s["running"] == 0 and s["waiting"] == 3 for s in d["samples"])'
	# In the future: nothing; as epoch ms or as ISO time, the same rows.
	api GET "/api/v1/usage?since=$((NOW + 3600000))" --token "$TOKEN"
	api_json 'd == {"samples": []}'
	api GET "/api/v1/usage?since=$((NOW / 1000 * 1000))&user=tester" \
	    --token "$TOKEN"
	cp "$OUT" "$TMP/ms.json"
	api GET "/api/v1/usage?since=$(date -u -d "@$((NOW / 1000))" \
	    +%Y-%m-%dT%H:%M:%SZ)&user=tester" --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "ISO since: $STATUS"
	cmp -s "$OUT" "$TMP/ms.json" || fail "ISO and epoch ms differ"
}
test_case "GET /api/v1/usage returns the samples, by time and user" api_rows

api_bounds() {
	api GET "/api/v1/usage?since=$((NOW - 9 * 86400000))" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "9 days ago: $STATUS"
	api_json '"more than 8 days ago" in d["error"]'
	api GET '/api/v1/usage?since=yesterday' --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "since=yesterday: $STATUS"
	api_json "d['error'].startswith(\"invalid time 'yesterday'\")"
	api GET '/api/v1/usage?since=2026-13-01T00:00:00Z' --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "month 13: $STATUS"
	api GET '/api/v1/usage?user=nobody' --token "$TOKEN"
	[ "$STATUS" = 404 ] || fail "user=nobody: $STATUS"
	# 20,001 samples within the hour: too many for one answer.
	db_query "INSERT INTO usage (at_ms, username, running, waiting)
	    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	    WHERE i < 20001) SELECT $NOW - 3600000 + i, 'bulk', i, 0 FROM n" \
	    >/dev/null
	api GET /api/v1/usage --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "20,001 samples: $STATUS"
	api_json '"more than 20000 samples" in d["error"]'
	api GET '/api/v1/usage?user=alice' --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "one user's: $STATUS"
}
test_case "GET /api/v1/usage refuses more than 8 days, too many rows, bad input" \
    api_bounds

serve_stop
