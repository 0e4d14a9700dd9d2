#!/bin/bash
# t0308-serve-cache.sh - serve keeps the answers of its lists while the
# database is unchanged (src/web/cache.c), and never answers older than
# the database: a change by any connection (the command line, the sqlite3
# or psql shell, a running pilot, serve's own workers) shows in the very
# next request, with no wait.  Each user's answers are their own, and
# each query's.  And task_count (migration 0011, kept by triggers) always
# equals the job table's own counts, through submits, a pilot's run, a
# kill, a retry and a delete.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
orch user add alice >/dev/null
orch user set alice --unix-user "$ME" >/dev/null
mkdir -p "$TMP/in"
for i in 0 1 2 3; do
	echo "$i" >"$TMP/in/f$i"
done
orch task submit a --exec 'cat %IN' --inputs "$TMP/in" --skip-test >/dev/null
TOKEN=$(orch user token tester 2>/dev/null)
ALICE=$(ORCHESTRA_USER=alice orch user token alice 2>/dev/null)
serve_start

# The counts of task a as GET /api/v1/tasks gives them, as "k=v ...".
counts_of_a() {
	api GET /api/v1/tasks --token "$1"
	[ "$STATUS" = 200 ] || fail "GET /api/v1/tasks: $STATUS"
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = [t for t in d["tasks"] if t["name"] == "a"][0]
print(" ".join("%s=%d" % kv for kv in sorted(t["counts"].items()) if kv[1]))
' "$OUT"
}

# task_count against the job table, on this database's driver.
counts_agree() {
	local want got
	want=$(db_query "SELECT task_id, status, count(*) FROM job
	    GROUP BY task_id, status ORDER BY task_id, status")
	got=$(db_query "SELECT task_id, status, n FROM task_count
	    WHERE n > 0 ORDER BY task_id, status")
	if [ "$want" != "$got" ]; then
		echo "# job table: $want" >&2
		echo "# task_count: $got" >&2
		fail "task_count differs from the job table"
	fi
	[ "$(db_query "SELECT count(*) FROM task_count WHERE n < 0")" = 0 ] ||
		fail "a negative count in task_count"
}

t_kept() {
	local first
	first=$(counts_of_a "$TOKEN")
	[ "$first" = "registered=4" ] || fail "counts: $first"
	# In one process, quickly: answers are kept 10 s at most.
	python3 - "$API" "$TOKEN" "${ORCHESTRA_TEST_DB:-sqlite}" <<'PY' || fail "not answered from the cache"
import json, sys, urllib.request
api, token = sys.argv[1], sys.argv[2]
def get(path):
    req = urllib.request.Request(api + path,
        headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        return r.read().decode()
def counters():
    m = dict(l.split(" ", 1) for l in get("/metrics").splitlines()
             if l.startswith("orchestra_http_cache_"))
    return (int(m["orchestra_http_cache_hits_total"]),
            int(m["orchestra_http_cache_misses_total"]))
# On PostgreSQL the state is the cluster's snapshot: a commit in
# another database of the shared test server (tests run side by side)
# makes serve read again, rightly.  So up to 50 tries there, one on
# SQLite; a cache that never answers fails either way.
tries = 50 if sys.argv[3] == "pg" else 1
for _ in range(tries):
    h0, m0 = counters()
    a, b = get("/api/v1/tasks"), get("/api/v1/tasks")
    h1, m1 = counters()
    if a == b and h1 >= h0 + 2 and m1 == m0:
        sys.exit(0)
sys.exit("hits %d -> %d, misses %d -> %d, same %s" % (h0, h1, m0, m1,
                                                     a == b))
PY
}
test_case "an unchanged list is answered from the cache" t_kept

t_other_connection() {
	counts_of_a "$TOKEN" >/dev/null
	# Another connection: the sqlite3 or psql shell.
	db_query "UPDATE job SET status = 'done'
	    WHERE idx = 0 AND task_id = (SELECT id FROM task WHERE name = 'a')"
	got=$(counts_of_a "$TOKEN")
	[ "$got" = "done=1 registered=3" ] ||
		fail "after a change by another connection: $got"
	# The command line.
	orch node set "$(db_query "SELECT name FROM node")" --cpu-slots 7 \
		>/dev/null
	api GET /api/v1/nodes --token "$TOKEN"
	api_json 'd["nodes"][0]["cpu_slots"] == 7'
	orch node set "$(db_query "SELECT name FROM node")" --cpu-slots 5 \
		>/dev/null
	api GET /api/v1/nodes --token "$TOKEN"
	api_json 'd["nodes"][0]["cpu_slots"] == 5'
}
test_case "a change by another connection shows in the next answer" \
	t_other_connection

t_own_worker() {
	api GET /api/v1/tasks/tester/a --token "$TOKEN"
	api_json 'd["signal"] is None'
	api POST /api/v1/tasks/tester/a/kill --token "$TOKEN"
	[ "$STATUS" = 202 ] || fail "kill: $STATUS"
	api GET /api/v1/tasks/tester/a --token "$TOKEN"
	api_json 'd["signal"] == "kill"'
}
test_case "a change through serve itself shows in the next answer" \
	t_own_worker

t_per_user_and_query() {
	api GET "/api/v1/tasks?user=alice" --token "$TOKEN"
	api_json 'd["tasks"] == []'
	ORCHESTRA_USER=alice orch task submit b --exec 'cat %IN' \
		--inputs "$TMP/in" --skip-test >/dev/null
	api GET "/api/v1/tasks?user=alice" --token "$TOKEN"
	api_json '[t["name"] for t in d["tasks"]] == ["b"]'
	api GET "/api/v1/tasks?user=tester" --token "$TOKEN"
	api_json '[t["name"] for t in d["tasks"]] == ["a"]'
	# alice's own token: her answer, not tester's kept one.
	api GET /api/v1/me --token "$ALICE"
	api_json 'd["username"] == "alice"'
	api GET "/api/v1/tasks?user=tester" --token "$ALICE"
	api_json '[t["name"] for t in d["tasks"]] == ["a"]'
	api GET /api/v1/tasks/alice/b --token "$ALICE"
	api_json 'd["user"] == "alice"'
}
test_case "answers are kept per user and per query" t_per_user_and_query

task_gone() {
	[ "$(db_query "SELECT count(*) FROM task WHERE name = '$1'")" = 0 ]
}

t_pilot() {
	local before
	counts_agree
	before=$(counts_of_a "$TOKEN")
	orch task submit c --exec 'true %IN' --inputs "$TMP/in" \
		--skip-test >/dev/null
	pilot_start
	pilot_wait_started
	wait_until 60 task_is c done
	wait_until 60 task_is a killed
	pilot_stop
	# What the pilot wrote (its own connection) is in the next answer.
	api GET /api/v1/tasks/tester/c --token "$TOKEN"
	api_json 'd["status"] == "done" and d["counts"]["done"] == 4'
	[ "$(counts_of_a "$TOKEN")" != "$before" ] ||
		fail "the kill of a does not show: $before"
	counts_agree
	orch task retry a >/dev/null
	pilot_start
	pilot_wait_started
	wait_until 60 task_is a done
	pilot_stop
	api GET /api/v1/tasks/tester/a --token "$TOKEN"
	api_json 'd["status"] == "done" and d["counts"]["done"] == 4'
	counts_agree
	orch task delete c >/dev/null
	pilot_start
	pilot_wait_started
	wait_until 60 task_gone c
	pilot_stop
	counts_agree
	[ "$(db_query "SELECT count(*) FROM task_count WHERE task_id NOT IN
	    (SELECT id FROM task)")" = 0 ] || fail "counts of a deleted task"
}
test_case "task_count follows a pilot's run, a kill, a retry, a delete" t_pilot

serve_stop
lib_finish
