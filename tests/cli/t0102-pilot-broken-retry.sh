#!/bin/bash
# t0102-pilot-broken-retry.sh - a task whose test job fails becomes
# `broken` and none of its other jobs ever starts; once its input is fixed,
# `task retry` tests it again and it runs to `done`.  The same on the local
# backend and on Kubernetes (cli-kube/, see lib.sh).

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
lib_backend_ready
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 4 >/dev/null
RUNS="$USER_VOL/runs"
: >"$RUNS"

mkdir -p "$TMP/in"
printf 'bad\n' >"$TMP/in/a0"
for i in 1 2 3 4; do
	printf 'good %d\n' "$i" >"$TMP/in/a$i"
done

# A job fails (exit 1) on an input that says "bad".
cat >"$TMP/job.sh" <<EOF
echo "start \$1" >>"$RUNS"
if grep -q bad "\$2"; then
	echo "bad input \$2" >&2
	exit 1
fi
cp "\$2" "\$3/\$1.out"
EOF

orch task submit brk --exec "sh $TMP/job.sh %JOB %IN %OUT" \
    --inputs "$TMP/in" >/dev/null

pilot_start
wait_until 60 task_is brk broken

broken() {
	expect_exit 0 orch task show brk --json
	json_check 'd["status"] == "broken" and
	    d["job_list"][0]["status"] == "failed" and
	    d["job_list"][0]["exit_code"] == 1 and
	    all(j["status"] == "broken" and j["started"] is None and
	        j["attempts"] == 0 for j in d["job_list"][1:])'
	[ "$(cat "$RUNS")" = "start 0" ] || fail "jobs that ran: $(cat "$RUNS")"
	expect_exit 0 orch task logs brk
	expect_stdout_contains "bad input $TMP/in/a0"
}
test_case "a failed test job breaks the task; no other job ever starts" broken

retry() {
	printf 'good 0\n' >"$TMP/in/a0"
	expect_exit 0 orch task retry brk
	wait_until 60 task_is brk "done"
	expect_exit 0 orch task show brk --json
	json_check 'd["status"] == "done" and d["counts"]["done"] == 5 and
	    all(j["exit_code"] == 0 for j in d["job_list"])'
	# Job 0 ran twice (failed, then passed), every other job once.
	[ "$(sort "$RUNS" | uniq -c | awk '{print $1 ":" $3}' | tr '\n' ' ')" = \
	    "2:0 1:1 1:2 1:3 1:4 " ] || fail "jobs that ran: $(sort "$RUNS" | uniq -c)"
	for i in 0 1 2 3 4; do
		[ "$(cat "$ORCHESTRA_HOME/volume/tester/brk/$i.out")" = "good $i" ] ||
		    fail "output of job $i"
	done
}
test_case "fixed and retried, the broken task is tested again and done" retry

# (An event from broken to broken records the retry signal left.)
transitions() {
	local got
	got=$(db_value "SELECT coalesce(e.old_status, '') || '>' || e.new_status
	    FROM event e JOIN task t ON t.id = e.task_id
	    WHERE e.kind = 'task' AND t.name = 'brk'
	    AND e.new_status IS DISTINCT FROM coalesce(e.old_status, '')
	    ORDER BY e.id" | tr '\n' ' ')
	[ "$got" = ">registered registered>testing testing>broken broken>registered registered>testing testing>running running>done " ] ||
	    fail "task transitions: $got"
}
test_case "transitions: ... broken -> registered -> testing -> running -> done" \
    transitions

pilot_stop

test_case "no supervisor or job process is left" wait_until 30 no_job_procs
