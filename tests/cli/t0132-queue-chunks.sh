#!/bin/bash
# t0132-queue-chunks.sh - a task's jobs are queued (registered ->
# assigned) in chunks, one chunk a cycle (TASK_QUEUE_CHUNK; the test knob
# ORCHESTRA_TEST_QUEUE_CHUNK makes it 3): cycle by cycle, lowest index
# first; a job not queued yet says it is queued at the next cycle; the
# pilot runs the next cycle at once, so every job runs; each job is queued
# once (one registered -> assigned event); a kill while chunks remain kills
# every job left.  A finalized task's retry queues its failed jobs again
# in chunks too (failed -> assigned, one event a job): the ones left wait
# failed and say they are queued at the next cycle (task show, queue); a
# kill leaves them failed; each job then runs once more and ends once.

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

# Task $1 has $2 jobs assigned, and with $3 the highest index among them.
expect_assigned() {
	[ "$(njobs "$1" assigned)" = "$2" ] ||
	    fail "$1: $(njobs "$1" assigned) assigned, expected $2"
	[ -z "${3:-}" ] || [ "$(max_assigned "$1")" = "$3" ] ||
	    fail "$1: jobs up to index $(max_assigned "$1") assigned, expected $3"
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
expect_assigned q 3 2
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
expect_assigned q 6 5
expect_exit 0 orch pilot --once
expect_exit 0 orch pilot --once
expect_assigned q 10
[ "$(task_status q)" = running ] || fail "q is $(task_status q)"
expect_exit 0 orch pilot --once
expect_assigned q 10
# Its submit and its start: a chunk is no task event.
[ "$(db_value "SELECT count(*) FROM event e JOIN task t ON t.id = e.task_id
    WHERE e.kind = 'task' AND t.name = 'q'")" = 2 ] ||
    fail "a chunk wrote a task event"
events_once q registered assigned

test_case "a kill while chunks remain kills every job left"
orch task submit k --exec "true %IN" --inputs "$TMP/in" --skip-test >/dev/null
expect_exit 0 orch pilot --once
expect_assigned k 3
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

# A finalized task's retry queues its failed jobs again in chunks too
# (failed -> assigned, the task's cursor requeue_from): r and rk, each of
# 10 jobs that fail until $TMP/fixed exists.
test_case "two tasks of 10 failed jobs each: finalized"
orch task submit r --exec "cat %IN $TMP/fixed" --inputs "$TMP/in" \
    --skip-test >/dev/null
orch task submit rk --exec "cat %IN $TMP/fixed" --inputs "$TMP/in" \
    --skip-test >/dev/null
pilot_start
wait_until 120 task_is r finalized
wait_until 120 task_is rk finalized
pilot_stop
[ "$(njobs r failed)" = 10 ] || fail "$(njobs r failed) of r's jobs failed"
[ "$(njobs rk failed)" = 10 ] || fail "$(njobs rk failed) of rk's jobs failed"
orch node set "$(hostname)" --cpu-slots 0 >/dev/null

test_case "the retry queues the first chunk; the others wait, failed"
expect_exit 0 orch task retry r
expect_exit 0 orch pilot --once
[ "$(task_status r)" = running ] || fail "r is $(task_status r), expected running"
expect_assigned r 3 2
[ "$(njobs r failed)" = 7 ] || fail "$(njobs r failed) failed, expected 7"
expect_exit 0 orch task show r
expect_stdout_contains "queued at the pilot's next cycle"
expect_exit 0 orch task show r --json
json_check 'sum(1 for j in d["job_list"] if j["status"] == "failed"
    and "queued at the pilot'"'"'s next cycle" in j["why"]) == 7'
expect_exit 0 orch queue --json
json_check '[(r["task"], r["status"], r["jobs"]) for r in d
    if r["task"] == "r" and "queued at the pilot'"'"'s next cycle"
    in r["why"]] == [("r", "failed", 7)]'

test_case "one chunk of the retry a cycle, lowest index first"
expect_exit 0 orch pilot --once
expect_assigned r 6 5
expect_exit 0 orch pilot --once
expect_exit 0 orch pilot --once
expect_assigned r 10
[ "$(task_status r)" = running ] || fail "r is $(task_status r)"
[ "$(db_value "SELECT coalesce(requeue_from, -1) FROM task
    WHERE name = 'r'")" = -1 ] || fail "r's cursor is left"
expect_exit 0 orch pilot --once
expect_assigned r 10
events_once r failed assigned
# Its submit, start, end, the signal left and the retry: a chunk is no
# task event.
got=$(db_value "SELECT coalesce(e.old_status, '') || '>' || e.new_status
    FROM event e JOIN task t ON t.id = e.task_id
    WHERE e.kind = 'task' AND t.name = 'r' ORDER BY e.id" | tr '\n' ' ')
[ "$got" = ">registered registered>running running>finalized finalized>finalized finalized>running " ] ||
    fail "r's task events: $got"

test_case "a kill while the retry's chunks remain: the rest stay failed"
expect_exit 0 orch task retry rk
expect_exit 0 orch pilot --once
expect_assigned rk 3
expect_exit 0 orch task kill rk
expect_exit 0 orch pilot --once
[ "$(task_status rk)" = killed ] || fail "rk is $(task_status rk), expected killed"
[ "$(njobs rk killed)" = 3 ] || fail "$(njobs rk killed) killed, expected 3"
[ "$(njobs rk failed)" = 7 ] || fail "$(njobs rk failed) failed, expected 7"
[ "$(db_value "SELECT coalesce(requeue_from, -1) FROM task
    WHERE name = 'rk'")" = -1 ] || fail "rk's cursor is left"
# Each job's end once: no failed -> killed, 3 assigned -> killed.
[ "$(db_value "SELECT count(*) FROM event e JOIN task t ON t.id = e.task_id
    WHERE e.kind = 'job' AND t.name = 'rk'
    AND e.new_status = 'killed'")" = 3 ] || fail "rk: not 3 jobs killed"

test_case "the retried jobs run once more and end once: r is done"
: >"$TMP/fixed"
orch node set "$(hostname)" --cpu-slots 2 >/dev/null
pilot_start
wait_until 120 task_is r "done"
pilot_stop
[ "$(njobs r "done")" = 10 ] || fail "$(njobs r "done") of r's jobs done"
# Two runs a job, each ended once: failed, then done.
[ "$(db_value "SELECT count(*) FROM job j JOIN task t ON t.id = j.task_id
    WHERE t.name = 'r' AND j.attempts = 2 AND (SELECT count(*) FROM event e
    WHERE e.kind = 'job' AND e.job_id = j.id
    AND e.new_status IN ('done', 'failed')) = 2")" = 10 ] ||
    fail "r: not every job ended once a run"
[ "$(db_value "SELECT count(*) FROM job_history h JOIN job j
    ON j.id = h.job_id JOIN task t ON t.id = j.task_id
    WHERE t.name = 'r'")" = 20 ] || fail "r: not two runs a job in history"
