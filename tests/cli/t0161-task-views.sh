#!/bin/bash
# t0161-task-views.sh - a big task shown a part at a time, and one
# priority everywhere: `task show` prints the first 100 jobs and says how
# many more (--limit, --status select others; --json honours them, as
# does the API's ?status=), `queue --limit` the first rows; a waiting
# job's priority is the scheduler's in `queue`, `task show` (text and
# JSON), the API's jobs page and the remote command line alike, written
# as the decimal it means (999.8, not 999.79999999999995), its n counting
# its user's waiting jobs of other pools.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
mkdir -p "$TMP/in"
for i in $(seq 1 250); do
	: >"$TMP/in/f$(printf %03d "$i")"
done
for t in big w w2; do
	in="$TMP/in"
	[ "$t" = w ] && in="$TMP/in/f001"
	orch task submit "$t" --exec 'cat %IN' --inputs "$in" --skip-test \
	    >/dev/null 2>&1
done
# As the pilot leaves them: big's jobs 0-9 done, 10-11 failed, the rest
# wait for a slot (assigned), and so do w2's: the scheduler's pool.
db_query "UPDATE task SET status = 'running' WHERE name IN ('big', 'w', 'w2')"
db_query "UPDATE job SET status = 'assigned'
    WHERE task_id IN (SELECT id FROM task WHERE name IN ('big', 'w', 'w2'))"
db_query "UPDATE job SET status = 'done', attempts = 1, priority = 1000
    WHERE idx < 10 AND task_id = (SELECT id FROM task WHERE name = 'big')"
db_query "UPDATE job SET status = 'failed', attempts = 1, priority = 999.8
    WHERE idx IN (10, 11)
    AND task_id = (SELECT id FROM task WHERE name = 'big')"
TOKEN=$(orch user token tester 2>/dev/null)
serve_start

remote() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
	    ORCHESTRA_DB="sqlite:$TMP/absent.db" "$ORCHESTRA_BIN" "$@"
}

# The job rows of `task show`'s text: the lines after the table's header.
job_rows() {
	sed -n '/^JOB /,$p' "$OUT" | sed 1d | grep -vc '^\.\.\. '
}

show_default() {
	expect_exit 0 orch task show big
	[ "$(job_rows)" -eq 100 ] || fail "$(job_rows) job rows, not 100"
	expect_stdout_contains "... and 150 more jobs (--limit N to see more"
	[ "$(wc -l <"$OUT")" -lt 120 ] || fail "$(wc -l <"$OUT") lines"
	expect_exit 0 orch task show big --json
	json_check 'len(d["job_list"]) == 100 and d["more_jobs"] == 150 and
	    d["job_list"][99]["index"] == 99 and d["jobs"] == 250'
}
test_case "task show prints the first 100 jobs and how many more" \
    show_default

show_limits() {
	expect_exit 0 orch task show big --limit 0
	[ "$(job_rows)" -eq 250 ] || fail "$(job_rows) job rows, not 250"
	grep -q '^\.\.\. ' "$OUT" && fail "a 'more' line with --limit 0"
	expect_exit 0 orch task show big --limit 3
	[ "$(job_rows)" -eq 3 ] || fail "$(job_rows) job rows, not 3"
	expect_stdout_contains "... and 247 more jobs"
	expect_exit 0 orch task show big --status failed
	[ "$(job_rows)" -eq 2 ] || fail "$(job_rows) failed rows, not 2"
	grep -q '^\.\.\. ' "$OUT" && fail "a 'more' line for 2 failed jobs"
	expect_stdout_contains "jobs:      250: 238 assigned 10 done 2 failed"
	expect_exit 0 orch task show big --status assigned --limit 5 --json
	json_check '[j["index"] for j in d["job_list"]] == [12, 13, 14, 15,
	    16] and d["more_jobs"] == 233 and
	    all(j["status"] == "assigned" for j in d["job_list"])'
	expect_exit 0 orch task show big --status done --limit 0 --json
	json_check 'len(d["job_list"]) == 10 and d["more_jobs"] == 0'
	expect_exit 2 orch task show big --status nope
	expect_stderr_usage "unknown job status 'nope'|nope"
	expect_exit 2 orch task show big --limit -1
	expect_stderr_usage "invalid --limit -1"
}
test_case "task show --status and --limit select the jobs" show_limits

show_api() {
	api GET "/api/v1/tasks/tester/big/jobs?status=failed" --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "GET jobs?status=failed: $STATUS"
	api_json '[j["index"] for j in d["jobs"]] == [10, 11]'
	api GET "/api/v1/tasks/tester/big/jobs?status=nope" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "GET jobs?status=nope: $STATUS"
	# The remote command line prints what the local one does.
	for args in "big" "big --status assigned --limit 120" \
	    "big --limit 0 --json" "big --status failed --json"; do
		# shellcheck disable=SC2086
		orch task show $args >"$TMP/local.out"
		# shellcheck disable=SC2086
		expect_exit 0 remote task show $args
		cmp -s "$TMP/local.out" "$OUT" ||
		    fail "remote task show $args differs"
	done
}
test_case "the API and the remote task show filter alike" show_api

queue_limit() {
	expect_exit 0 orch queue --limit 5
	[ "$(wc -l <"$OUT")" -eq 6 ] || fail "$(wc -l <"$OUT") lines, not 6"
	expect_exit 0 orch queue --limit 7 --json
	json_check 'len(d) == 7 and [r["place"] for r in d] == list(range(1, 8))'
	orch queue --limit 7 --json >"$TMP/local.out"
	expect_exit 0 remote queue --limit 7 --json
	cmp -s "$TMP/local.out" "$OUT" || fail "remote queue --limit differs"
	expect_exit 2 orch queue --limit 0
	expect_stderr_usage "invalid --limit 0"
}
test_case "queue --limit prints the first rows" queue_limit

# tester's waiting jobs in the merge: big's 238 from job 12, then w's
# one, then w2's: the n-th is (5 * 1000 - n) / 5, none running.
same_priority() {
	expect_exit 0 orch queue --json
	json_check '[(r["task"], r["index"], r["priority"]) for r in d
	    if r["status"] == "assigned"][:2] == [("big", 12, 1000.0),
	    ("big", 13, 999.8)] and
	    [r["priority"] for r in d if r["task"] == "w"] == [952.4]'
	grep -q '999\.79999' "$OUT" && fail "queue --json: 999.79999..."
	grep -q '"priority": 999.8,' "$OUT" || fail "queue --json: no 999.8"
	expect_exit 0 orch task show big --status assigned --limit 2 --json
	json_check '[j["priority"] for j in d["job_list"]] == [1000.0, 999.8]'
	grep -q '999\.79999' "$OUT" && fail "task show --json: 999.79999..."
	grep -q '"priority": 999.8,' "$OUT" || fail "task show --json: 999.8"
	expect_exit 0 orch task show w --json
	json_check 'd["job_list"][0]["priority"] == 952.4 and
	    d["job_list"][0]["place"] == 239'
	expect_exit 0 orch queue
	grep -Eq '^2 +999\.8 +tester +big +13 ' "$OUT" ||
	    fail "queue: no '2 999.8 tester big 13'"
	expect_exit 0 orch task show big --status assigned --limit 2
	grep -Eq '^13 +assigned +999\.8 ' "$OUT" ||
	    fail "task show: job 13 not at 999.8"
	expect_exit 0 orch task show big --status failed
	grep -Eq '^10 +failed +999\.8 ' "$OUT" ||
	    fail "task show: failed job 10 not at its placed 999.8"
	api GET "/api/v1/tasks/tester/big/jobs?after=11&limit=2" \
	    --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "GET jobs: $STATUS"
	api_json '[j["priority"] for j in d["jobs"]] == [1000.0, 999.8]'
	grep -q '999.79999' "$OUT" && fail "API: 999.79999..."
	api GET "/api/v1/queue?limit=2" --token "$TOKEN"
	grep -q '999.8[,}]' "$OUT" || fail "API queue: no 999.8"
	expect_exit 0 remote task show big --status assigned --limit 2 --json
	json_check '[j["priority"] for j in d["job_list"]] == [1000.0, 999.8]'
}
test_case "a waiting job has the scheduler's priority in every view" \
    same_priority

# SPEC.md numbers a user's waiting jobs across pools: a GPU task submitted
# after big, w and w2 has their 238 + 1 + 250 waiting CPU jobs ahead of
# it, (5 * 1000 - 489) / 5 = 902.2, not the 1000 of a pool of its own.
other_pools() {
	expect_exit 0 orch node set "$(hostname)" --max-gpu-slots 1 \
	    --gpu-slots 1
	expect_exit 0 orch task submit g --gpu --exec 'cat %IN' \
	    --inputs "$TMP/in/f002" --skip-test
	db_query "UPDATE task SET status = 'running' WHERE name = 'g'"
	db_query "UPDATE job SET status = 'assigned'
	    WHERE task_id = (SELECT id FROM task WHERE name = 'g')"
	expect_exit 0 orch queue --json
	json_check '[r["priority"] for r in d if r["task"] == "g"] == [902.2]'
	expect_exit 0 orch task show g --json
	json_check 'd["job_list"][0]["priority"] == 902.2'
	expect_exit 0 remote queue --json
	json_check '[r["priority"] for r in d if r["task"] == "g"] == [902.2]'
}
test_case "a job's n counts its user's waiting jobs of other pools" \
    other_pools

serve_stop
lib_finish
