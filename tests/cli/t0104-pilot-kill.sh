#!/bin/bash
# t0104-pilot-kill.sh - `task kill` on running tasks: the task goes through
# `killing` to `killed`, its jobs end `killed`, and every process of every
# job is gone: the job's shell, its children and their children, also when
# the job ignores SIGTERM (SIGKILL after the grace period).
#
# On Kubernetes (the simulator runs each pod as a local process group, so
# the recorded pids are real) the Jobs are DELETEd with propagation
# Background, and the kubelet's SIGKILL after the pod's grace period ends
# the stubborn ones.  The task is `killed` as soon as its Jobs are gone,
# while their pods may still be terminating: the local backend's grace of
# 5 s, seen as a `killing` task, has no counterpart to watch there.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
lib_backend_ready
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 6 >/dev/null
rm -f "$USER_VOL/pids.meek" "$USER_VOL/pids.stubborn"
: >"$USER_VOL/pids.meek"
: >"$USER_VOL/pids.stubborn"

mkdir -p "$TMP/in"
for i in 0 1 2; do
	: >"$TMP/in/a$i"
done

# A job records its own pid, a child's and a grandchild's in pids.<task>,
# then waits.
cat >"$TMP/job.sh" <<EOF
PIDS="$USER_VOL/pids.\$2"
echo \$\$ >>"\$PIDS"
sleep 300 &
echo \$! >>"\$PIDS"
PIDS=\$PIDS sh -c 'sleep 300 & echo \$! >>"\$PIDS"; wait' &
echo \$! >>"\$PIDS"
wait
EOF

orch task submit meek --exec "sh $TMP/job.sh %JOB meek %IN" \
    --inputs "$TMP/in" --skip-test >/dev/null
# The stubborn jobs' shells (the group leaders) ignore SIGTERM, and so do
# their children.
orch task submit stubborn --exec "trap '' TERM; sh $TMP/job.sh %JOB stubborn %IN" \
    --inputs "$TMP/in" --skip-test >/dev/null

# Every job wrote its 4 pids.
all_pids_written() {
	[ "$(cat "$USER_VOL/pids.meek" "$USER_VOL/pids.stubborn" | wc -l)" -eq 24 ]
}

# Gone, or a zombie nobody reaped yet.
pid_gone() {
	! kill -0 "$1" 2>/dev/null ||
	    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# Every pid in pids.$1 is gone.
all_pids_gone() {
	local p
	while read -r p; do
		pid_gone "$p" || return 1
	done <"$USER_VOL/pids.$1"
}

# None of them is.
no_pid_gone() {
	local p
	while read -r p; do
		! pid_gone "$p" || return 1
	done <"$USER_VOL/pids.$1"
}

# The statuses task $1 went through.
transitions() {
	db_value "SELECT e.new_status FROM event e
	    JOIN task t ON t.id = e.task_id WHERE e.kind = 'task'
	    AND t.name = '$1' AND e.new_status IS DISTINCT FROM e.old_status
	    ORDER BY e.id" | tr '\n' ' '
}

six_running() {
	[ "$(db_value "SELECT count(*) FROM job WHERE status = 'running'")" -eq 6 ]
}

pilot_start
wait_until 60 all_pids_written
# The jobs write their pids once started; the pilot records them running
# after it started them all.
wait_until 60 six_running

running() {
	expect_exit 0 orch task show meek --json
	json_check 'd["status"] == "running" and d["counts"]["running"] == 3'
	expect_exit 0 orch task show stubborn --json
	json_check 'd["status"] == "running" and d["counts"]["running"] == 3'
	no_pid_gone meek || fail "a process of meek is not running"
	no_pid_gone stubborn || fail "a process of stubborn is not running"
	[ -n "$(job_procs)" ] || fail "job_procs sees no job process"
}
test_case "6 jobs running, each with a child and a grandchild" running

kill_meek() {
	expect_exit 0 orch task kill meek
	wait_until 60 task_is meek killed
	expect_exit 0 orch task show meek --json
	json_check 'd["counts"]["killed"] == 3 and
	    all(j["status"] == "killed" and j["ended"] for j in d["job_list"])'
	wait_until 60 all_pids_gone meek
	[ "$(transitions meek)" = "registered running killing killed " ] ||
	    fail "transitions of meek: $(transitions meek)"
	! on_kube || wait_until 30 kube_jobs_deleted meek
	expect_exit 0 orch task show stubborn --json
	json_check 'd["status"] == "running" and d["counts"]["running"] == 3'
	no_pid_gone stubborn || fail "a process of stubborn is gone"
}
test_case "task kill: the task is killed, every process of its jobs gone, the other task runs on" \
    kill_meek

# Locally, SIGKILL comes LOCAL_GRACE_SECONDS (5 s) after SIGTERM; until
# then the task is `killing` and the jobs `kill`.  On Kubernetes the pods'
# grace period (capped at 2 s by the simulator) runs after the Jobs are
# gone: only the end is checked there.
kill_stubborn() {
	local t0
	expect_exit 0 orch task kill stubborn
	t0=$SECONDS
	if ! on_kube; then
		wait_until 60 task_is stubborn killing
		no_pid_gone stubborn || fail "a process of stubborn is gone at once"
	fi
	wait_until 60 task_is stubborn killed
	echo "# stubborn jobs killed after $((SECONDS - t0)) s"
	if ! on_kube; then
		[ $((SECONDS - t0)) -ge 3 ] || fail "killed before the grace period"
	fi
	expect_exit 0 orch task show stubborn --json
	json_check 'd["counts"]["killed"] == 3 and
	    all(j["status"] == "killed" for j in d["job_list"])'
	[ "$(transitions stubborn)" = "registered running killing killed " ] ||
	    fail "transitions of stubborn: $(transitions stubborn)"
	! on_kube || kube_jobs_deleted stubborn ||
	    fail "a Job of stubborn is not deleted"
	wait_until 60 all_pids_gone stubborn
}
test_case "jobs ignoring SIGTERM are killed too; every recorded pid is gone" \
    kill_stubborn

pilot_stop

test_case "no supervisor or job process is left" wait_until 30 no_job_procs
