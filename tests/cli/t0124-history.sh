#!/bin/bash
# t0124-history.sh - accounting (`orchestra history`, GET /api/v1/history):
# the pilot records each run as it ends (table job_history); after the
# tasks are removed, one by `task delete`, one by retention (the test-only
# ORCHESTRA_TEST_NOW_OFFSET moves the clock of a `pilot --once`), the
# jobs and the CPU and GPU slot seconds per user, node and queue equal,
# to the second, the runs' times the job rows held; the same through
# ORCHESTRA_URL; a year later the pilot forgets them.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
NODE=$(hostname)
orch node set "$NODE" --cpu-slots 4 --max-gpu-slots 2 --gpu-slots 2 \
    >/dev/null
printf '/a\n/b\n/c\n' >"$TMP/three"
printf '/a\n/b\n' >"$TMP/two"
orch task submit cpu --skip-test --exec 'sleep 1 # %IN' \
    --inputs "@$TMP/three" >/dev/null
orch task submit gpu --gpu --skip-test --exec 'sleep 1.5 # %IN' \
    --inputs "@$TMP/two" >/dev/null

pilot_start
wait_until 120 task_is cpu done
wait_until 120 task_is gpu done
pilot_stop

# What the job rows say, before they go: ms of CPU and of GPU runs.
CPU_MS=$(db_value "SELECT sum(ended_ms - started_ms) FROM job WHERE gpu = 0")
GPU_MS=$(db_value "SELECT sum(ended_ms - started_ms) FROM job WHERE gpu = 1")
CPU_S=$(((CPU_MS + 500) / 1000))
GPU_S=$(((GPU_MS + 500) / 1000))
echo "# cpu ${CPU_MS} ms, gpu ${GPU_MS} ms"

# One removed by delete, one by retention (its 10 days are over).
tasks() {
	db_value "SELECT count(*) FROM task"
}
cycle_at() { # OFFSET
	ORCHESTRA_TEST_NOW_OFFSET=$1 "$ORCHESTRA_BIN" pilot --once \
	    2>>"$TMP/pilot-once.log"
}
removed() { # N OFFSET
	cycle_at "$2"
	[ "$(tasks)" -eq "$1" ]
}
orch task delete cpu >/dev/null
wait_until 60 removed 1 0
wait_until 60 removed 0 14450m
test_case "both tasks and their jobs are gone" eval \
    '[ "$(db_value "SELECT count(*) FROM job")" -eq 0 ]'

totals() {
	expect_exit 0 orch history --json
	json_check "d['by'] == 'user' and len(d['totals']) == 1 and
	    d['totals'][0] == {'group': 'tester', 'jobs': 5,
	        'cpu_seconds': $CPU_S, 'gpu_seconds': $GPU_S}"
}
test_case "history --json: the jobs and slot seconds, after removal" totals

by_node_queue() {
	expect_exit 0 orch history --by node --json
	json_check "[(t['group'], t['jobs'], t['cpu_seconds'], t['gpu_seconds'])
	    for t in d['totals']] == [('$NODE', 5, $CPU_S, $GPU_S)]"
	expect_exit 0 orch history --by queue --user tester
	expect_stdout_contains "QUEUE"
	grep -Eq "^default +5 +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2}$" "$OUT" ||
	    fail "no line for queue default: $(cat "$OUT")"
}
test_case "history --by node and --by queue" by_node_queue

ranges() {
	# Runs ended today: none before yesterday, none from tomorrow on.
	expect_exit 0 orch history --json --until "$(date -u -d yesterday +%F)"
	json_check "d['totals'] == []"
	expect_exit 0 orch history --json --since "$(date -u -d tomorrow +%F)" \
	    --until "$(date -u -d '2 days' +%F)"
	json_check "d['totals'] == []"
	expect_exit 0 orch history --json --since "$(date -u -d yesterday +%F)" \
	    --until "$(date -u -d tomorrow +%F)"
	json_check "d['totals'][0]['jobs'] == 5"
}
test_case "--since and --until bound the ends" ranges

refusals() {
	expect_exit 2 orch history --by task
	expect_stderr_usage "^orchestra: history: invalid --by 'task': expected user, queue or node$"
	expect_exit 2 orch history --since yesterday
	expect_stderr_usage "^orchestra: history: invalid --since: "
	expect_exit 1 orch history --user nobody
	expect_stderr_line "^orchestra: .*'nobody'"
	expect_exit 1 orch history --since 2026-01-02 --until 2026-01-01
	expect_stderr_line "^orchestra: 'until' is not after 'since': nothing ended in between"
}
test_case "refusals" refusals

TOKEN=$(orch user token tester 2>/dev/null)
serve_start
remote() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
	    ORCHESTRA_DB="sqlite:$TMP/absent/orchestra.db" "$ORCHESTRA_BIN" "$@"
}
over_api() {
	local range="--since 2020-01-01 --until 2100-01-01"
	# shellcheck disable=SC2086 # two options each
	orch history $range --by node --json >"$TMP/local.json"
	# shellcheck disable=SC2086
	remote history $range --by node --json >"$TMP/remote.json" ||
	    fail "remote history failed"
	diff -u "$TMP/local.json" "$TMP/remote.json" >&2
	# shellcheck disable=SC2086
	remote history $range >"$TMP/remote.txt"
	# shellcheck disable=SC2086
	orch history $range | diff -u - "$TMP/remote.txt" >&2
	api GET "/api/v1/history?by=user&since=2020-01-01&until=2100-01-01" \
	    --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "status $STATUS"
	api_json "d['totals'][0]['gpu_seconds'] == $GPU_S"
	api GET "/api/v1/history?by=task" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "by=task: status $STATUS"
}
test_case "the same through the API and ORCHESTRA_URL" over_api
serve_stop

forgotten() {
	cycle_at 400d
	expect_exit 0 orch history --json --since 2020-01-01 --until 2100-01-01
	json_check "d['totals'] == []"
}
test_case "a year after, the pilot forgets the runs" forgotten
