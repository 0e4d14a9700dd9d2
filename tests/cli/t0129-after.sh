#!/bin/bash
# t0129-after.sh - tasks that wait for tasks (issue 19): `task submit B
# --after A` keeps every job of B (its test job too) registered until A
# is done, and why, show and the queue say what B waits for; `--after-any`
# waits until A has ended in any state.  A that ends finalized keeps B
# waiting, why says to retry it or delete B, and a retry of A to done
# releases B, even when B was read in the round A ends in (a step of B
# made on what it read before A changed keeps the mark A's change set,
# and the next round reads B afresh).  A task that another
# waits for cannot be deleted (the refusal names it); a missing task is
# refused with nothing created; a user may not wait for another user's
# task (over the API: the command line on the database is trusted as an
# admin), an admin may.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
lib_backend_ready
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 4 >/dev/null
expect_exit 0 orch user add bob --unix-user "$ME"
RUNS="$USER_VOL/runs"
: >"$RUNS"
chmod 0666 "$RUNS"
GATE="$TMP/gate"
mkdir -p "$TMP/in"
for i in 0 1 2; do
	echo "$i" >"$TMP/in/f$i"
done

# A job that logs "TASK IDX" once it runs, and with a gate file waits for
# it first.
cat >"$TMP/job.sh" <<END
echo "\$1 \$2" >>"$RUNS"
while [ -n "\$3" ] && [ ! -e "\$3" ]; do sleep 0.1; done
exit 0
END
# Job 1 fails until $TMP/fixed exists.
cat >"$TMP/fail.sh" <<END
[ "\$1" != 1 ] || [ -e "$TMP/fixed" ]
END

missing() {
	db_dump >"$TMP/before"
	expect_exit 1 orch task submit b0 --exec true --after nosuch
	expect_stderr_line "^orchestra: --after: no task 'nosuch' of user 'tester'$"
	expect_exit 1 orch task submit b0 --exec true --after-any user.bob.x
	expect_stderr_line "^orchestra: --after-any: no task 'x' of user 'bob'$"
	expect_exit 1 orch task submit b0 --exec true --after ','
	expect_stderr_line "empty task name"
	db_dump >"$TMP/after"
	cmp -s "$TMP/before" "$TMP/after" || fail "the database changed"
}
test_case "a missing task is refused, nothing created" missing

orch task submit a --exec "sh $TMP/job.sh a %JOB $GATE %IN" \
    --inputs "$TMP/in" >/dev/null 2>&1
expect_exit 0 orch task submit b --exec "sh $TMP/job.sh b %JOB '' %IN" \
    --inputs "$TMP/in" --after a
pilot_start

b_waits() {
	wait_until 60 grep -q '^a 0$' "$RUNS"
	# The cycle that queued a's test job has looked at b too.
	task_is b registered || fail "b is $(task_status b)"
	[ "$(db_value "SELECT count(*) FROM job j JOIN task t
	    ON t.id = j.task_id WHERE t.name = 'b'
	    AND j.status <> 'registered'")" = 0 ] ||
	    fail "a job of b left registered"
	! grep -q '^b ' "$RUNS" || fail "a job of b ran"
	expect_exit 0 orch task show b
	expect_stdout_contains "after:     user.tester.a (once done)"
	expect_stdout_contains "waits for user.tester.a: testing, 0 of 3 done"
	expect_exit 0 orch queue
	expect_stdout_contains "waits for user.tester.a: testing, 0 of 3 done"
	expect_exit 0 orch task list --json
	json_check '[t["why"] for t in d if t["name"] == "b"] ==
	    ["waits for user.tester.a: testing, 0 of 3 done"]'
	expect_exit 0 orch task show b --json
	json_check 'd["after"] == "user.tester.a" and d["after_any"] == ""'
}
test_case "b waits while a runs, and says so" b_waits

b_runs() {
	touch "$GATE"
	wait_until 60 task_is b "done"
	task_is a "done" || fail "a is $(task_status a)"
	[ "$(grep -c '^b ' "$RUNS")" = 3 ] || fail "b's jobs: $(cat "$RUNS")"
	# b's first job started after a's last one ended.
	[ "$(db_value "SELECT CASE WHEN (SELECT min(j.started_ms) FROM job j
	    JOIN task t ON t.id = j.task_id WHERE t.name = 'b') >=
	    (SELECT max(j.ended_ms) FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = 'a') THEN 'after' ELSE 'before' END")" = after ] ||
	    fail "b started before a ended"
	# No task waits for a any more: it can go.
	expect_exit 0 orch task delete a
}
test_case "once a is done b runs, after a's last job" b_runs

orch task submit a2 --exec "sh $TMP/fail.sh %JOB %IN" --inputs "$TMP/in" \
    >/dev/null
orch task submit b2 --exec "sh $TMP/job.sh b2 %JOB" --after a2 >/dev/null

stuck() {
	wait_until 60 task_is a2 finalized
	expect_exit 0 orch task show b2
	expect_stdout_contains "waits for user.tester.a2, which ended finalized: retry it, or delete this task"
	task_is b2 registered || fail "b2 is $(task_status b2)"
	expect_exit 1 orch task delete a2
	expect_stderr_line "^orchestra: task 'user.tester.a2' cannot be deleted: task 'user.tester.b2' waits for it"
	task_is a2 finalized || fail "a2 is $(task_status a2)"
}
test_case "a finalized a2 keeps b2 waiting, with why; a2 cannot be deleted" stuck

released() {
	touch "$TMP/fixed"
	expect_exit 0 orch task retry a2
	wait_until 60 task_is b2 "done"
	task_is a2 "done" || fail "a2 is $(task_status a2)"
}
test_case "a2 retried to done releases b2" released

orch task submit a3 --exec "sh $TMP/job.sh a3 %JOB $TMP/never" >/dev/null
orch task submit b3 --exec "sh $TMP/job.sh b3 %JOB" --after-any a3 \
    >/dev/null

after_any() {
	wait_until 60 grep -q '^a3 0$' "$RUNS"
	task_is b3 registered || fail "b3 is $(task_status b3)"
	expect_exit 0 orch task kill a3
	wait_until 60 task_is b3 "done"
	task_is a3 killed || fail "a3 is $(task_status a3)"
	expect_exit 0 orch task show b3 --json
	json_check 'd["after"] == "" and d["after_any"] == "user.tester.a3"'
}
test_case "--after-any: b3 runs once a3 is killed" after_any

# a4 writes one output per input, once $TMP/gate4 exists; b4, submitted
# before a4 ran, takes them as its inputs.
cat >"$TMP/out.sh" <<END
while [ ! -e "$TMP/gate4" ]; do sleep 0.1; done
cp "\$1" "\$2/\$(basename "\$1").out"
END
orch task submit a4 --exec "sh $TMP/out.sh %IN %OUT" --inputs "$TMP/in" \
    >/dev/null
orch task submit a5 --exec true >/dev/null

inputs_of() {
	expect_exit 0 orch task submit b4 --inputs-of a4 --exec "cat %IN"
	expect_stdout_contains "submitted task 'user.tester.b4': one job per output file of user.tester.a4 once it is done"
	expect_exit 1 orch task submit b5 --inputs-of a4 --inputs "$TMP/in" \
	    --exec "cat %IN"
	expect_stderr_line "^orchestra: --inputs and --inputs-of: give one of them$"
	expect_exit 0 orch task show b4 --json
	json_check 'd["inputs_of"] == "user.tester.a4" and d["jobs"] == 0'
	wait_until 60 task_is a4 testing
	task_is b4 registered || fail "b4 is $(task_status b4)"
	touch "$TMP/gate4"
	wait_until 60 task_is b4 "done"
	expect_exit 0 orch task show b4 --json
	json_check '[j["input"] for j in d["job_list"]] == [
	    d["output"].rsplit("/", 1)[0] + "/a4/f%d.out" % i
	    for i in range(3)]'
	[ "$(db_value "SELECT CASE WHEN (SELECT min(j.started_ms) FROM job j
	    JOIN task t ON t.id = j.task_id WHERE t.name = 'b4') >=
	    (SELECT max(j.ended_ms) FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = 'a4') THEN 'after' ELSE 'before' END")" = after ] ||
	    fail "b4 started before a4 ended"
	# A task that wrote no file: nothing to run, b5 breaks.
	expect_exit 0 orch task submit b5 --inputs-of a5 --exec "cat %IN"
	wait_until 60 task_is b5 broken
}
test_case "--inputs-of: a4's outputs, listed once it is done" inputs_of

pilot_stop

# In the round of a cycle that ends a task a waiter waits for, the
# waiter, read before that end, stays waiting; its step must not clear
# the mark the end just set (migration 0025), or no cycle looks at it
# again (under load, with a's test job and last jobs ended in one cycle,
# "once a is done b runs" timed out so).  b6's mark, set here by SQL
# between two cycles of `pilot --once`, stands for that of an earlier
# change of a6's in the race.
a6_job_ended() {
	orch pilot --once >/dev/null 2>&1
	[ "$(db_value "SELECT j.status FROM job j JOIN task t
	    ON t.id = j.task_id WHERE t.name = 'a6'")" = done ]
}
stale_wait() {
	orch task submit a6 --skip-test --exec true >/dev/null
	orch task submit b6 --after a6 --exec true >/dev/null
	# The cycle that records the job's end steps the tasks before it
	# polls: a6 is still running after it.
	wait_until 60 a6_job_ended
	task_is a6 running || fail "a6 is $(task_status a6)"
	task_is b6 registered || fail "b6 is $(task_status b6)"
	db_query "UPDATE task SET dirty = 1 WHERE name = 'b6'"
	expect_exit 0 orch pilot --once
	task_is a6 "done" || fail "a6 is $(task_status a6)"
	task_is b6 testing ||
	    fail "b6 is $(task_status b6) after the cycle that ended a6"
}
test_case "a waiter in the round its task ends in is read afresh" stale_wait

TOKEN=$(orch user token tester 2>/dev/null)
BOB=$(orch user token bob 2>/dev/null)
serve_start
remote() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
	    ORCHESTRA_DB="sqlite:$TMP/absent.db" "$ORCHESTRA_BIN" "$@"
}
remote_bob() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$BOB" \
	    ORCHESTRA_DB="sqlite:$TMP/absent.db" "$ORCHESTRA_BIN" "$@"
}

# The rows a submit writes (a token's use is written too, over the API).
task_rows() {
	db_value "SELECT (SELECT count(*) FROM task) || ' ' ||
	    (SELECT count(*) FROM job) || ' ' || (SELECT count(*) FROM task_dep)
	    || ' ' || (SELECT count(*) FROM event)"
}

api_after() {
	local before
	before=$(task_rows)
	expect_exit 1 remote_bob task submit bx --exec true \
	    --after user.tester.a2
	expect_stderr_line "^orchestra: --after: task 'user.tester.a2' is not yours: only an admin may wait for another user's task$"
	expect_exit 1 remote_bob task submit bx --exec true --after nosuch
	expect_stderr_line "^orchestra: --after: no task 'nosuch' of user 'bob'$"
	[ "$(task_rows)" = "$before" ] || fail "the database changed"
	# bob's own task, and the admin's right to name anyone's.
	expect_exit 0 remote_bob task submit bprep --exec true
	expect_exit 0 remote_bob task submit bx --exec true --after bprep \
	    --json
	json_check 'd["after"] == "user.bob.bprep"'
	expect_exit 0 remote task submit tx --exec true \
	    --after user.bob.bprep --after-any a2,b2 --json
	json_check 'd["after"] == "user.bob.bprep" and
	    d["after_any"] == "user.tester.a2,user.tester.b2"'
	expect_exit 0 remote task show tx
	expect_stdout_contains "waits for user.bob.bprep: registered, 0 of 1 done"
}
test_case "over the API: only one's own tasks, an admin anyone's" api_after

lib_finish
