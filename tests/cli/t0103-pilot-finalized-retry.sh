#!/bin/bash
# t0103-pilot-finalized-retry.sh - a task some of whose jobs (not the test
# job) fail ends `finalized`, with the failed jobs' exit codes and the
# node's `failed` counter; once the inputs are fixed, `task retry` runs only
# the failed jobs again, and the task is `done`.  The same on the local
# backend and on Kubernetes (cli-kube/, see lib.sh).

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
lib_backend_ready
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 3 >/dev/null
RUNS="$USER_VOL/runs"
: >"$RUNS"

mkdir -p "$TMP/in"
for i in 0 1 2 3 4 5; do
	printf 'good %d\n' "$i" >"$TMP/in/a$i"
done
printf 'bad\n' >"$TMP/in/a2"
printf 'bad\n' >"$TMP/in/a4"

# A job fails with exit code 7 on an input that says "bad".
cat >"$TMP/job.sh" <<EOF
echo "start \$1" >>"$RUNS"
if grep -q bad "\$2"; then
	exit 7
fi
cp "\$2" "\$3/\$1.out"
EOF

orch task submit fin --exec "sh $TMP/job.sh %JOB %IN %OUT" \
    --inputs "$TMP/in" >/dev/null

# How many times each job index ran, as "N:IDX ..." sorted by index.
runs_per_index() {
	sort -k2n "$RUNS" | uniq -c | awk '{print $1 ":" $3}' | tr '\n' ' '
}

pilot_start
wait_until 60 task_is fin finalized

finalized() {
	expect_exit 0 orch task show fin --json
	json_check 'd["status"] == "finalized" and d["counts"]["failed"] == 2 and
	    d["counts"]["done"] == 4 and
	    [j["exit_code"] for j in d["job_list"]] == [0, 0, 7, 0, 7, 0] and
	    [j["status"] for j in d["job_list"]] ==
	        ["done", "done", "failed", "done", "failed", "done"]'
	[ "$(runs_per_index)" = "1:0 1:1 1:2 1:3 1:4 1:5 " ] ||
	    fail "runs per index: $(runs_per_index)"
	expect_exit 0 orch node list --json
	json_check 'd[0]["completed"] == 4 and d[0]["failed"] == 2'
}
test_case "jobs 2 and 4 fail (exit 7): the task is finalized" finalized

retry() {
	printf 'good 2\n' >"$TMP/in/a2"
	printf 'good 4\n' >"$TMP/in/a4"
	expect_exit 0 orch task retry fin
	wait_until 60 task_is fin "done"
	expect_exit 0 orch task show fin --json
	json_check 'd["status"] == "done" and d["counts"]["done"] == 6 and
	    all(j["exit_code"] == 0 for j in d["job_list"])'
	[ "$(runs_per_index)" = "1:0 1:1 2:2 1:3 2:4 1:5 " ] ||
	    fail "runs per index: $(runs_per_index)"
	[ "$(cat "$ORCHESTRA_HOME/volume/tester/fin/2.out")" = "good 2" ] ||
	    fail "output of job 2"
}
test_case "retry runs only the failed jobs again; the task is done" retry

transitions() {
	local got
	got=$(db_value "SELECT coalesce(e.old_status, '') || '>' || e.new_status
	    FROM event e JOIN task t ON t.id = e.task_id
	    WHERE e.kind = 'task' AND t.name = 'fin'
	    AND e.new_status IS DISTINCT FROM coalesce(e.old_status, '')
	    ORDER BY e.id" | tr '\n' ' ')
	[ "$got" = ">registered registered>testing testing>running running>finalized finalized>running running>done " ] ||
	    fail "task transitions: $got"
}
test_case "transitions: ... running -> finalized -> running -> done" transitions

pilot_stop

test_case "no supervisor or job process is left" wait_until 30 no_job_procs
