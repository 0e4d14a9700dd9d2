#!/bin/bash
# t0305-serve-lists.sh - what the dashboard's lists read in one request:
# the jobs holding each node's slots in GET /api/v1/nodes (and in
# `node list --json`, the same function); each task of GET /api/v1/tasks
# with its job counts, priority and why (as `task list --json`); the
# queue in keyset pages, which the remote `orchestra queue` reads to the
# end, printing what the local one does; the nodes and users (by name)
# and a user's tokens (by id) in keyset pages too, which neither skip
# nor repeat a row, and which the remote `node list`, `user list` and
# `user tokens` read to the end.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
NODE=$(db_query "SELECT name FROM node")
mkdir -p "$TMP/in"
for i in 0 1 2; do
	echo "$i" >"$TMP/in/f$i"
done
orch task submit a1 --exec 'cat %IN' --inputs "$TMP/in" --skip-test >/dev/null
orch task submit a2 --exec 'cat %IN' --inputs "$TMP/in" --skip-test >/dev/null
orch task submit a3 --exec 'cat %IN' --inputs "$TMP/in" --skip-test >/dev/null
# a4: more waiting jobs than the remote command line reads a page.
mkdir -p "$TMP/many"
for i in $(seq 1 1100); do
	: >"$TMP/many/f$i"
done
orch task submit a4 --exec 'cat %IN' --inputs "$TMP/many" --skip-test >/dev/null
db_query "UPDATE task SET status = 'running' WHERE name = 'a4'"
db_query "UPDATE job SET status = 'assigned'
    WHERE task_id = (SELECT id FROM task WHERE name = 'a4')"
TOKEN=$(orch user token tester 2>/dev/null)
# Two jobs of a1 hold slots on the node (as the pilot would have placed
# them); a finished one holds none.
NID=$(db_query "SELECT id FROM node")
TID=$(db_query "SELECT id FROM task WHERE name = 'a1'")
db_query "UPDATE job SET status = 'running', node_id = $NID,
    started_ms = 1700000000000 WHERE task_id = $TID AND idx = 0"
db_query "UPDATE job SET status = 'pending', node_id = $NID
    WHERE task_id = $TID AND idx = 2"
db_query "UPDATE job SET priority = 7.5 WHERE task_id = $TID AND idx = 2"
# a3 runs: its jobs wait for a slot (assigned), the scheduler's pool.
db_query "UPDATE task SET status = 'running' WHERE name = 'a3'"
db_query "UPDATE job SET status = 'assigned'
    WHERE task_id = (SELECT id FROM task WHERE name = 'a3')"
db_query "UPDATE job SET status = 'done', node_id = $NID,
    started_ms = 1700000000000, ended_ms = 1700000001000
    WHERE task_id = $TID AND idx = 1"
serve_start

node_jobs() {
	api GET /api/v1/nodes --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "GET nodes: $STATUS"
	api_json 'd["nodes"][0]["jobs"] == [
	    {"task": "user.tester.a1", "index": 0, "user": "tester",
	     "status": "running", "gpu": None,
	     "started": "2023-11-14T22:13:20Z"},
	    {"task": "user.tester.a1", "index": 2, "user": "tester",
	     "status": "pending", "gpu": None, "started": None}]'
	cp "$OUT" "$TMP/api.json"
	expect_exit 0 orch node list --json
	python3 -c 'import json, sys
api = json.load(open(sys.argv[1]))["nodes"]
assert api == json.load(open(sys.argv[2])), "the CLI differs"' \
	    "$TMP/api.json" "$OUT" || fail "node list --json differs from the API"
}
test_case "nodes list the jobs holding their slots, as node list --json" \
    node_jobs

task_fields() {
	api GET '/api/v1/tasks?limit=2' --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "GET tasks: $STATUS"
	api_json '[t["name"] for t in d["tasks"]] == ["a1", "a2"] and
	    d["tasks"][0]["counts"]["running"] == 1 and
	    d["tasks"][0]["counts"]["pending"] == 1 and
	    d["tasks"][0]["counts"]["done"] == 1 and
	    d["tasks"][0]["priority"] == 7.5 and d["tasks"][0]["why"] is None and
	    d["tasks"][1]["counts"]["registered"] == 3 and
	    d["tasks"][1]["priority"] is None and
	    d["tasks"][1]["why"] == "its task waits for the scheduler to start it"'
	api GET "/api/v1/tasks?limit=1&after=$(db_query "SELECT id FROM task WHERE name = 'a2'")" \
	    --token "$TOKEN"
	api_json '[t["name"] for t in d["tasks"]] == ["a3"] and
	    d["tasks"][0]["counts"]["assigned"] == 3 and
	    d["tasks"][0]["why"].endswith("slot in queue \u0027default\u0027 (its task shows its place)")' ||
	    fail "a3: $(cat "$OUT")"
	# The command line's --json is the same function.
	api GET '/api/v1/tasks' --token "$TOKEN"
	cp "$OUT" "$TMP/api.json"
	expect_exit 0 orch task list --json
	python3 -c 'import json, sys
api = json.load(open(sys.argv[1]))["tasks"]
assert api == json.load(open(sys.argv[2])), "the CLI differs"' \
	    "$TMP/api.json" "$OUT" || fail "task list --json differs from the API"
	# The counts are those of task show.
	for t in a1 a2 a3; do
		expect_exit 0 orch task show $t --json
		python3 -c 'import json, sys
show = json.load(open(sys.argv[2]))
t = [t for t in json.load(open(sys.argv[1]))["tasks"] if t["id"] == show["id"]][0]
assert t["counts"] == show["counts"], (t["counts"], show["counts"])' \
		    "$TMP/api.json" "$OUT" || fail "$t: counts differ from task show"
	done
}
test_case "tasks come with their counts, priority and why" task_fields

queue_pages() {
	local after=0 n=0
	: >"$TMP/pages"
	while :; do
		api GET "/api/v1/queue?limit=100&after=$after" --token "$TOKEN"
		[ "$STATUS" = 200 ] || fail "GET queue: $STATUS $(cat "$OUT")"
		python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["queue"]:
    print(json.dumps(r, sort_keys=True))' "$OUT" >>"$TMP/pages"
		after=$(python3 -c 'import json,sys; n=json.load(open(sys.argv[1]))["next_after"]; print("" if n is None else n)' "$OUT")
		[ -n "$after" ] || break
		n=$((n + 1))
		[ $n -lt 100 ] || fail "the queue's pages do not end"
	done
	expect_exit 0 orch queue --json
	python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    print(json.dumps(r, sort_keys=True))' "$OUT" >"$TMP/cli"
	[ "$(wc -l <"$TMP/cli")" -gt 1100 ] || fail "a short queue"
	cmp -s "$TMP/pages" "$TMP/cli" || fail "the pages differ from queue --json"
	api GET "/api/v1/queue?limit=2&user=tester&queue=default" --token "$TOKEN"
	api_json 'len(d["queue"]) == 2 and d["next_after"] == 2'
	api GET "/api/v1/queue?limit=0" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "limit=0: $STATUS"
	api GET "/api/v1/queue?after=100000" --token "$TOKEN"
	api_json 'd == {"queue": [], "next_after": None}'
}
test_case "the queue in pages, as queue --json has it" queue_pages

remote_queue() {
	local j
	for j in "" --json; do
		expect_exit 0 orch queue $j
		cp "$OUT" "$TMP/local"
		ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
		    ORCHESTRA_DB="sqlite:$TMP/absent/orchestra.db" \
		    expect_exit 0 "$ORCHESTRA_BIN" queue $j
		cmp -s "$TMP/local" "$OUT" ||
		    fail "remote queue $j differs: $(diff "$TMP/local" "$OUT" | head)"
	done
}
test_case "the remote queue reads every page and prints the same" remote_queue

node_jobs_bounded() {
	# Slots lowered below what is held: the list stops at the slots.
	db_query "UPDATE node SET cpu_slots = 1, max_cpu_slots = 1,
	    gpu_slots = 0, max_gpu_slots = 0"
	api GET /api/v1/nodes --token "$TOKEN"
	api_json '[j["index"] for j in d["nodes"][0]["jobs"]] == [0]'
}
test_case "a node lists at most its slots' worth of jobs" node_jobs_bounded

# More nodes, users and tokens than the remote command line reads a page
# (1000), made by one statement each.
MANY="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s
    WHERE i < 1100)"
db_query "$MANY INSERT INTO node (name, created_ms)
    SELECT 'many-' || (10000 + i), 1700000000000 FROM s"
db_query "$MANY INSERT INTO account (username, created_ms)
    SELECT 'many-' || (10000 + i), 1700000000000 FROM s"
db_query "$MANY INSERT INTO token (account_id, hash, created_ms)
    SELECT (SELECT id FROM account WHERE username = 'tester'),
    'feed' || i, 1700000000000 FROM s"

# PATH KEY FIELD: read every page of PATH (97 rows a page), each row's
# FIELD a line of $TMP/pages; fail unless each page but the last is full
# and next_after is the last row's FIELD.
walk() {
	local path=$1 key=$2 field=$3 after="" n=0 q
	: >"$TMP/pages"
	while :; do
		q="$path?limit=97"
		[ -z "$after" ] || q="$q&after=$after"
		api GET "$q" --token "$TOKEN"
		[ "$STATUS" = 200 ] || fail "GET $q: $STATUS $(cat "$OUT")"
		after=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
rows, n = d[sys.argv[2]], d["next_after"]
for r in rows:
    print(r[sys.argv[3]], file=sys.stderr)
assert n is None or (len(rows) == 97 and n == rows[-1][sys.argv[3]]), n
print("" if n is None else n)' "$OUT" "$key" "$field" 2>>"$TMP/pages") ||
		    fail "GET $q: a bad page"
		[ -n "$after" ] || break
		n=$((n + 1))
		[ $n -lt 100 ] || fail "the pages of $path do not end"
	done
}

# CLI-ARGS... FIELD: the rows' FIELD of the command's --json, a line each.
cli_rows() {
	local field=$1
	shift
	expect_exit 0 orch "$@" --json
	python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    print(r[sys.argv[2]])' "$OUT" "$field" >"$TMP/cli"
}

list_pages() {
	walk /api/v1/nodes nodes name
	cli_rows name node list
	[ "$(wc -l <"$TMP/cli")" -gt 1100 ] || fail "few nodes"
	cmp -s "$TMP/pages" "$TMP/cli" || fail "node pages differ from node list"
	[ "$(sort "$TMP/pages" | uniq -d)" = "" ] || fail "a node repeats"
	walk /api/v1/users users username
	cli_rows username user list
	[ "$(wc -l <"$TMP/cli")" -gt 1100 ] || fail "few users"
	cmp -s "$TMP/pages" "$TMP/cli" || fail "user pages differ from user list"
	[ "$(sort "$TMP/pages" | uniq -d)" = "" ] || fail "a user repeats"
	walk /api/v1/me/tokens tokens id
	cli_rows id user tokens tester
	[ "$(wc -l <"$TMP/cli")" -gt 1100 ] || fail "few tokens"
	cmp -s "$TMP/pages" "$TMP/cli" || fail "token pages differ from tokens"
	sort -n -c "$TMP/pages" || fail "tokens out of order"
	[ "$(sort "$TMP/pages" | uniq -d)" = "" ] || fail "a token repeats"
	# The default page is 100; the last page's next_after is null.
	api GET /api/v1/nodes --token "$TOKEN"
	api_json 'len(d["nodes"]) == 100 and d["next_after"] == d["nodes"][-1]["name"]'
	api GET '/api/v1/users?after=many-11099' --token "$TOKEN"
	api_json '[u["username"] for u in d["users"]][:1] == ["many-11100"] and
	    d["next_after"] is None' || fail "users after many-11099: $(cat "$OUT")"
	api GET '/api/v1/nodes?limit=1000' --token "$TOKEN"
	api_json 'len(d["nodes"]) == 1000'
}
test_case "nodes, users and tokens in keyset pages, as the lists have them" \
    list_pages

list_refusals() {
	local q
	for q in nodes?limit=0 nodes?limit=1001 nodes?limit=x \
	    'nodes?after=a%20b' nodes?after= 'nodes?after=..' \
	    users?limit=0 users?limit=1001 'users?after=a%2Fb' users?after= \
	    me/tokens?limit=0 me/tokens?limit=1001 me/tokens?after=-1 \
	    me/tokens?after=x; do
		api GET "/api/v1/$q" --token "$TOKEN"
		[ "$STATUS" = 400 ] || fail "GET /api/v1/$q: $STATUS, not 400"
		api_json 'isinstance(d["error"], str) and d["error"]' ||
		    fail "GET /api/v1/$q: $(cat "$OUT")"
	done
	api GET '/api/v1/nodes?after=a%20b' --token "$TOKEN"
	api_json 'd["error"].startswith("invalid node name \u0027a b\u0027")' ||
	    fail "bad node after: $(cat "$OUT")"
}
test_case "a bad page bound or after is 400" list_refusals

remote_lists() {
	local j c
	for j in "" --json; do
		for c in "node list" "user list" "user tokens tester"; do
			expect_exit 0 orch $c $j
			cp "$OUT" "$TMP/local"
			ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
			    ORCHESTRA_DB="sqlite:$TMP/absent/orchestra.db" \
			    expect_exit 0 "$ORCHESTRA_BIN" $c $j
			cmp -s "$TMP/local" "$OUT" ||
			    fail "remote $c $j differs: $(diff "$TMP/local" "$OUT" | head)"
		done
	done
}
test_case "the remote node list, user list and tokens read every page" \
    remote_lists

# The statements `task list --json` prepares (GET /api/v1/tasks' function),
# from the store's test knob.
list_statements() {
	ORCHESTRA_TEST_STORE_COUNT=1 expect_exit 0 orch task list --all --json
	sed -n 's/.*store closed statements=\([0-9]*\).*/\1/p' "$ERR"
}

task_statements() {
	local before after i tid
	before=$(list_statements)
	[ -n "$before" ] || fail "no statement count: $(cat "$ERR")"
	# Thirty more tasks, with jobs holding slots, waiting for one and
	# waiting for the scheduler: the list prepares no more statements.
	for i in $(seq 1 30); do
		orch task submit b$i --exec 'cat %IN' --inputs "$TMP/in" \
		    --skip-test >/dev/null
		tid=$(db_query "SELECT id FROM task WHERE name = 'b$i'")
		case $((i % 3)) in
		0) db_query "UPDATE job SET status = 'running', node_id = $NID,
		    priority = $i WHERE task_id = $tid" ;;
		1) db_query "UPDATE task SET status = 'running' WHERE id = $tid
		    ; UPDATE job SET status = 'assigned' WHERE task_id = $tid" ;;
		esac
	done
	after=$(list_statements)
	expect_exit 0 orch task list --all --json
	python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))
assert len(t) == 34, len(t)
b = {x["name"]: x for x in t}
assert b["b3"]["priority"] == 3 and b["b3"]["counts"]["running"] == 3
assert b["b4"]["counts"]["assigned"] == 3 and b["b4"]["why"]
assert b["b5"]["why"] == "its task waits for the scheduler to start it"' \
	    "$OUT" || fail "the larger list: $(head -c 300 "$OUT")"
	[ "$after" = "$before" ] ||
	    fail "task list: $before statements for 4 tasks, $after for 34"
}
test_case "the task list's statements do not grow with its tasks" \
    task_statements

serve_stop
