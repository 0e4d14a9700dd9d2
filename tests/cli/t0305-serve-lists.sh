#!/bin/bash
# t0305-serve-lists.sh - what the dashboard's lists read in one request:
# the jobs holding each node's slots in GET /api/v1/nodes (and in
# `node list --json`, the same function); each task of GET /api/v1/tasks
# with its job counts, priority and why (as `task list --json`); the
# queue in keyset pages, which the remote `orchestra queue` reads to the
# end, printing what the local one does.

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

serve_stop
