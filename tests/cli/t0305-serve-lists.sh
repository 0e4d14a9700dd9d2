#!/bin/bash
# t0305-serve-lists.sh - what the dashboard's lists read in one request:
# the jobs holding each node's slots in GET /api/v1/nodes (and in
# `node list --json`, the same function).

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
TOKEN=$(orch user token tester 2>/dev/null)
# Two jobs of a1 hold slots on the node (as the pilot would have placed
# them); a finished one holds none.
NID=$(db_query "SELECT id FROM node")
TID=$(db_query "SELECT id FROM task WHERE name = 'a1'")
db_query "UPDATE job SET status = 'running', node_id = $NID,
    started_ms = 1700000000000 WHERE task_id = $TID AND idx = 0"
db_query "UPDATE job SET status = 'pending', node_id = $NID
    WHERE task_id = $TID AND idx = 2"
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

node_jobs_bounded() {
	# Slots lowered below what is held: the list stops at the slots.
	db_query "UPDATE node SET cpu_slots = 1, max_cpu_slots = 1,
	    gpu_slots = 0, max_gpu_slots = 0"
	api GET /api/v1/nodes --token "$TOKEN"
	api_json '[j["index"] for j in d["nodes"][0]["jobs"]] == [0]'
}
test_case "a node lists at most its slots' worth of jobs" node_jobs_bounded

serve_stop
