#!/bin/bash
# t0132-queue-chunks.sh - a task's jobs are queued (registered ->
# assigned) in chunks, one chunk a cycle (TASK_QUEUE_CHUNK; the test knob
# ORCHESTRA_TEST_QUEUE_CHUNK makes it 3): cycle by cycle, lowest index
# first; a job not queued yet says it is queued at the next cycle; the
# pilot runs the next cycle at once, so every job runs; each job is queued
# once (one registered -> assigned event); a kill while chunks remain kills
# every job left.

. "$(dirname "$0")/lib.sh"

export ORCHESTRA_TEST_QUEUE_CHUNK=3

orch init >/dev/null
lib_backend_ready
# No slot yet: what is queued stays queued, cycle after cycle.
orch node set "$(hostname)" --max-cpu-slots 4 --cpu-slots 0 >/dev/null

mkdir -p "$TMP/in"
for i in 0 1 2 3 4 5 6 7 8 9; do
	: >"$TMP/in/f$i"
done

njobs() {
	db_value "SELECT count(*) FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = '$1' AND j.status = '$2'"
}

# The highest index of task $1's assigned jobs.
max_assigned() {
	db_value "SELECT max(j.idx) FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = '$1' AND j.status = 'assigned'"
}

# Task $1's jobs moved $2 -> $3 more than once, or never: none.
events_once() {
	local bad
	bad=$(db_value "SELECT count(*) FROM job j JOIN task t
	    ON t.id = j.task_id WHERE t.name = '$1' AND (SELECT count(*)
	    FROM event e WHERE e.kind = 'job' AND e.job_id = j.id
	    AND e.old_status = '$2' AND e.new_status = '$3') <> 1")
	[ "$bad" = 0 ] || fail "task $1: $bad jobs without exactly one $2 -> $3 event"
}

test_case "the first chunk: 3 jobs, lowest index first"
orch task submit q --exec "true %IN" --inputs "$TMP/in" --skip-test >/dev/null
expect_exit 0 orch pilot --once
[ "$(task_status q)" = running ] || fail "q is $(task_status q), expected running"
[ "$(njobs q assigned)" = 3 ] || fail "$(njobs q assigned) assigned, expected 3"
[ "$(max_assigned q)" = 2 ] || fail "jobs up to index $(max_assigned q) assigned"
[ "$(njobs q registered)" = 7 ] || fail "$(njobs q registered) registered"

test_case "a job not queued yet: queued at the next cycle"
expect_exit 0 orch task show q
expect_stdout_contains "queued at the pilot's next cycle"
expect_exit 0 orch queue
expect_stdout_contains "(7 jobs)  registered"
expect_stdout_contains "queued at the pilot's next cycle"
expect_exit 0 orch task show q --json
json_check 'sum(1 for j in d["job_list"] if j["status"] == "registered"
    and "queued at the pilot'"'"'s next cycle" in j["why"]) == 7'

test_case "one chunk a cycle, with no task event"
expect_exit 0 orch pilot --once
[ "$(njobs q assigned)" = 6 ] || fail "$(njobs q assigned) assigned, expected 6"
[ "$(max_assigned q)" = 5 ] || fail "jobs up to index $(max_assigned q) assigned"
expect_exit 0 orch pilot --once
expect_exit 0 orch pilot --once
[ "$(njobs q assigned)" = 10 ] || fail "$(njobs q assigned) assigned, expected 10"
[ "$(task_status q)" = running ] || fail "q is $(task_status q)"
expect_exit 0 orch pilot --once
[ "$(njobs q assigned)" = 10 ] || fail "$(njobs q assigned) assigned, expected 10"
# Its submit and its start: a chunk is no task event.
[ "$(db_value "SELECT count(*) FROM event e JOIN task t ON t.id = e.task_id
    WHERE e.kind = 'task' AND t.name = 'q'")" = 2 ] ||
    fail "a chunk wrote a task event"
events_once q registered assigned

test_case "a kill while chunks remain kills every job left"
orch task submit k --exec "true %IN" --inputs "$TMP/in" --skip-test >/dev/null
expect_exit 0 orch pilot --once
[ "$(njobs k assigned)" = 3 ] || fail "$(njobs k assigned) assigned, expected 3"
[ "$(njobs k registered)" = 7 ] || fail "$(njobs k registered) registered"
expect_exit 0 orch task kill k
expect_exit 0 orch pilot --once
[ "$(task_status k)" = killed ] || fail "k is $(task_status k), expected killed"
[ "$(njobs k killed)" = 10 ] || fail "$(njobs k killed) killed, expected 10"
# The 3 queued were killed from assigned, the 7 left from registered.
[ "$(db_value "SELECT count(*) FROM event e JOIN task t ON t.id = e.task_id
    WHERE e.kind = 'job' AND t.name = 'k' AND e.new_status = 'assigned'")" = 3 ] ||
    fail "k: not 3 jobs queued"
[ "$(db_value "SELECT count(*) FROM event e JOIN task t ON t.id = e.task_id
    WHERE e.kind = 'job' AND t.name = 'k'
    AND e.new_status = 'killed'")" = 10 ] ||
    fail "not one killed event a job"

test_case "with slots, the pilot goes on at once: every job runs"
orch node set "$(hostname)" --cpu-slots 2 >/dev/null
# A task with its test job: it runs first and alone, then the others in
# chunks of 3.
orch task submit t --exec "true %IN" --inputs "$TMP/in" >/dev/null
pilot_start
wait_until 120 task_is q "done"
wait_until 120 task_is t "done"
pilot_stop
[ "$(njobs t "done")" = 10 ] || fail "$(njobs t "done") of t's jobs done"
events_once q registered assigned
events_once t registered assigned
# The test job was queued alone, before any other job of t.
[ "$(db_value "SELECT j.idx FROM event e JOIN job j ON j.id = e.job_id
    JOIN task t ON t.id = j.task_id WHERE t.name = 't' AND e.kind = 'job'
    AND e.new_status = 'assigned' ORDER BY e.id LIMIT 1")" = 0 ] ||
    fail "t's first queued job is not its test job"
grep -q "task 3: running -> running (next jobs queued)" "$PILOT_LOG" ||
    fail "t was not queued in chunks"
