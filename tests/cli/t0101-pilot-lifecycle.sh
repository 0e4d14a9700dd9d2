#!/bin/bash
# t0101-pilot-lifecycle.sh - a 6-job task run by the pilot (on the local
# backend, or on Kubernetes: see lib.sh): registered -> testing -> running
# -> done; the test job (index 0) runs first and alone; every job runs in
# %OUT and its output lands there; `task logs` prints a job's output; the
# node's `completed` counter counts the jobs; no job process is left
# behind, and on Kubernetes no Job or pod either: each ended Job was
# deleted with propagation Background.
#
# The pilot is started and stopped at the top level of the script (a test
# case runs in a subshell); test cases only look.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
lib_backend_ready
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 3 >/dev/null
VOL="$ORCHESTRA_HOME/volume"
RUNS="$USER_VOL/runs"
: >"$RUNS"

mkdir -p "$TMP/in"
for i in 0 1 2 3 4 5; do
	printf 'data %d\n' "$i" >"$TMP/in/in$i.txt"
done

# Each job records its start and end (ns) in $RUNS, says hello on stdout
# and writes its input, upper-cased, to %OUT/<index>.out.
cat >"$TMP/job.sh" <<EOF
idx=\$1 in=\$2 out=\$3
echo "start \$idx \$(date +%s%N)" >>"$RUNS"
echo "hello from job \$idx in \$(pwd)"
tr a-z A-Z <"\$in" >"\$out/\$idx.out"
sleep 0.5
echo "end \$idx \$(date +%s%N)" >>"$RUNS"
EOF

completed_before=$(db_value "SELECT completed FROM node")

submit() {
	expect_exit 0 orch task submit life --exec "sh $TMP/job.sh %JOB %IN %OUT" \
	    --inputs "$TMP/in"
	expect_stdout_contains "6 jobs"
	expect_exit 0 orch task show life --json
	json_check 'd["status"] == "registered" and d["counts"]["registered"] == 6'
}
test_case "a 6-job task is registered" submit

pilot_start --interval 30
wait_until 120 task_is life "done"
pilot_stop

transitions() {
	local got
	got=$(db_value "SELECT coalesce(e.old_status, '') || '>' || e.new_status
	    FROM event e JOIN task t ON t.id = e.task_id
	    WHERE e.kind = 'task' AND t.name = 'life' ORDER BY e.id" | tr '\n' ' ')
	[ "$got" = ">registered registered>testing testing>running running>done " ] ||
	    fail "task transitions: $got"
	expect_exit 0 orch task show life --json
	json_check 'd["status"] == "done" and d["counts"]["done"] == 6 and
	    all(j["status"] == "done" and j["exit_code"] == 0 and
	        j["node"] == "'"$(hostname)"'" and j["started"] and j["ended"] and
	        j["attempts"] == 1 for j in d["job_list"]) and
	    d["job_list"][0]["test"]'
	# What each used: the kernel's on the local backend; none known on
	# Kubernetes, whose pod status gives no usage (issue 19).
	if on_kube; then
		json_check 'all(j["peak_memory"] is None and j["cpu_ms"] is None
		    for j in d["job_list"])'
	else
		json_check 'all(j["peak_memory"] > 0 and j["cpu_ms"] >= 0
		    for j in d["job_list"])'
	fi
}
test_case "registered -> testing -> running -> done, every job done" transitions

outputs() {
	local i
	for i in 0 1 2 3 4 5; do
		[ "$(cat "$VOL/tester/life/$i.out")" = "DATA $i" ] ||
		    fail "output of job $i: $(cat "$VOL/tester/life/$i.out" 2>&1)"
	done
}
test_case "every job wrote its output into %OUT" outputs

test_first_and_alone() {
	python3 - "$RUNS" <<'EOF'
import sys
start, end = {}, {}
for line in open(sys.argv[1]):
    kind, idx, t = line.split()
    d = start if kind == "start" else end
    if int(idx) in d:
        sys.exit("job %s has two %s lines" % (idx, kind))
    d[int(idx)] = int(t)
if sorted(start) != list(range(6)) or sorted(end) != list(range(6)):
    sys.exit("starts %r ends %r" % (sorted(start), sorted(end)))
for i in range(1, 6):
    if not end[0] < start[i]:
        sys.exit("job %d started %d ns before the test job ended"
                 % (i, end[0] - start[i]))
# With 3 slots, jobs 1..5 ran side by side (at least two at once).
over = sum(1 for i in range(1, 6) for k in range(i + 1, 6)
           if start[i] < end[k] and start[k] < end[i])
if over == 0:
    sys.exit("jobs 1..5 never overlapped with 3 slots")
EOF
}
test_case "the test job ran first and alone; the others in parallel" \
    test_first_and_alone

logs() {
	expect_exit 0 orch task logs life
	expect_stdout_contains "hello from job 0 in $VOL/tester/life"
	expect_exit 0 orch task logs life 4
	expect_stdout_contains "hello from job 4 in $VOL/tester/life"
	expect_exit 1 orch task logs life 6
}
test_case "task logs prints a job's output (default: the test job)" logs

counters() {
	expect_exit 0 orch node list --json
	json_check 'd[0]["completed"] == '"$completed_before"' + 6 and
	    d[0]["failed"] == 0 and d[0]["cpu_used"] == 0'
}
test_case "the node's completed counter went up by 6" counters

# The simulator's objects of a kind, such as "jobs".
kube_no_objects() {
	kube_state 'd["objects"].get("'"$1"'", 0) == 0'
}

no_leftovers() {
	wait_until 30 no_job_procs
	on_kube || return 0
	wait_until 30 kube_jobs_deleted life
	wait_until 30 kube_no_objects jobs
	wait_until 30 kube_no_objects pods
}
test_case "no supervisor or job process is left (nor Job, nor pod)" no_leftovers
