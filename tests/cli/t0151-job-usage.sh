#!/bin/bash
# t0151-job-usage.sh - what an ended job used (issue 19): the local
# backend records each job's peak memory and CPU time from the kernel's
# accounting of its processes (the rusage of the job's shell at its end),
# and `task show`, `history` (table, --json, --csv) and the API show them
# beside the memory the job was placed with.  A job that fills 64 MiB and
# burns 0.6 s of CPU reports a peak of at least 64 MiB (and less than 200:
# an interpreter's own, not a multiple) and at least 300 ms; a job that
# runs `true` a few MiB and under 300 ms; a job that never ran, neither
# ("-", null).  The same through ORCHESTRA_URL, byte for byte.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

MIB=$((1 << 20))
orch init >/dev/null
lib_backend_ready
NODE=$(hostname)
orch node set "$NODE" --cpu-slots 2 >/dev/null
expect_exit 0 orch task submit big --skip-test --memory 1G --exec "python3 -c '
import time
b = b\"x\" * (64 << 20)
t = time.process_time()
while time.process_time() - t < 0.6:
    pass
'"
expect_exit 0 orch task submit small --skip-test --exec true

pilot_start
wait_until 120 task_is big done
wait_until 120 task_is small done
pilot_stop
# Submitted with no pilot running: never runs.
expect_exit 0 orch task submit never --skip-test --exec true

shown() {
	expect_exit 0 orch task show big --json
	json_check "64 * $MIB <= d['job_list'][0]['peak_memory'] < 200 * $MIB"
	json_check "d['job_list'][0]['cpu_ms'] >= 300"
	json_check "d['job_list'][0]['memory'] == 1024 * $MIB"
	expect_exit 0 orch task show small --json
	json_check "0 < d['job_list'][0]['peak_memory'] < 64 * $MIB"
	json_check "0 <= d['job_list'][0]['cpu_ms'] < 300"
	expect_exit 0 orch task show never --json
	json_check "d['job_list'][0]['peak_memory'] is None and
	    d['job_list'][0]['cpu_ms'] is None"
	# The table: peak / limit, CPU seconds.
	expect_exit 0 orch task show big
	expect_stdout_line "^JOB .* EXIT +PEAK MEM / LIMIT +CPU +INPUT"
	expect_stdout_line "^0 +done .* 0 +[0-9.]+ MiB / 1 GiB +[0-9]+\.[0-9][0-9] s +- "
	expect_exit 0 orch task show never
	expect_stdout_line "^0 +[a-z]+ .* - +- +- +- +"
}
test_case "task show: peak memory and CPU time beside the limit" shown

# The peak and CPU time the job rows hold.
PEAK=$(db_value "SELECT peak_memory FROM job j JOIN task t ON t.id = j.task_id
    WHERE t.name = 'big'")
CPU=$(db_value "SELECT cpu_ms FROM job j JOIN task t ON t.id = j.task_id
    WHERE t.name = 'big'")

history() {
	expect_exit 0 orch history --json
	json_check "len(d['runs']) == 2"
	json_check "[(r['task'], r['peak_memory'], r['cpu_ms'], r['memory'])
	    for r in d['runs'] if r['task'].endswith('.big')] ==
	    [('user.tester.big', $PEAK, $CPU, 1024 * $MIB)]"
	json_check "all(0 < r['peak_memory'] < 64 * $MIB and r['cpu_ms'] < 300
	    for r in d['runs'] if r['task'].endswith('.small'))"
	expect_exit 0 orch history --csv
	expect_stdout_contains ",$PEAK,$CPU"
	expect_exit 0 orch history --task big
	expect_stdout_line "^USER .* EXIT +PEAK MEM / LIMIT +CPU"
	expect_stdout_line " MiB / 1 GiB +[0-9]+\.[0-9][0-9] s"
}
test_case "history: each run's peak memory and CPU time" history

TOKEN=$(orch user token tester 2>/dev/null)
serve_start
over_api() {
	# A window of history named, not "the last 30 days" read twice on
	# either side of a second.
	local args w="--since 2000-01-01 --until 2100-01-01"
	# shellcheck disable=SC2086 # words
	for args in "task show big" "task show big --json" "task show never" \
	    "history $w" "history --json $w" "history --csv $w"; do
		remote_same "$TOKEN" $args
	done
	api GET "/api/v1/history" --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "status $STATUS"
	api_json "[r['peak_memory'] for r in d['runs']
	    if r['task'].endswith('.big')] == [$PEAK]"
}
test_case "the same through the API and ORCHESTRA_URL" over_api
