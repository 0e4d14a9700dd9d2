#!/bin/bash
# t0127-pilot-launcher.sh - the local backend's launcher and supervisors
# (issue 18): each job's supervisor is forked by orchestra-launch, the
# pilot's child, not by the pilot; a job's output reaches its log through
# the supervisor's pipe, all of it, in one file a job, and a writer that
# left the job's group does not hold the job's end; a supervisor killed
# while its job runs makes the job lost and queued again (one stopped with
# SIGTERM from outside too), though the pilot
# reads no file of a job it knows running, and one killed after its job
# ended leaves that end recorded by the launcher, with a pilot running or
# not (the launcher outlives the pilot while it has supervisors); a
# launcher killed leaves its jobs running, and the pilot forks the next
# supervisors itself; every job's end is recorded once.

. "$(dirname "$0")/lib.sh"

! on_kube || skip_all "the local backend's launcher, not on Kubernetes"

orch init >/dev/null
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 8 >/dev/null
pilot_start --interval 60
pilot_wait_started

launcher_pid() {
	ps -o pid=,comm= --ppid "$PILOT_PID" | awk '$2 == "orchestra-launc" { print $1 }'
}
# The supervisor of job $1's attempt $2, from its record ("pid N").
super_pid() {
	sed -n '1s/^pid \([0-9]*\)$/\1/p' "$ORCHESTRA_HOME/jobs/$1-$2.job" 2>/dev/null
}
job_id() { # TASK INDEX
	db_value "SELECT j.id FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = '$1' AND j.idx = $2"
}
job_is() { # ID STATUS
	[ "$(db_value "SELECT status FROM job WHERE id = $1")" = "$2" ]
}
has_super() { # ID ATTEMPT
	[ -n "$(super_pid "$1" "$2")" ]
}

printf '/in/a\n/in/b\n' >"$TMP/two"
orch task submit long --skip-test --exec 'sleep 600 # %IN' \
    --inputs "@$TMP/two" >/dev/null
L0=$(job_id long 0)
L1=$(job_id long 1)
wait_until 30 job_is "$L0" running
wait_until 30 has_super "$L0" 1

forked_by_launcher() {
	local launcher sup
	launcher=$(launcher_pid)
	[ -n "$launcher" ] || fail "the pilot has no orchestra-launch child"
	sup=$(super_pid "$L0" 1)
	[ "$(ps -o ppid= -p "$sup" | tr -d ' ')" = "$launcher" ] ||
	    fail "supervisor $sup is not the launcher's ($launcher) child"
	# Linked with the C library only: its forks are cheap.
	! ldd "$(dirname "$ORCHESTRA_BIN")/orchestra-launch" |
	    grep -Eq 'libsqlite3|libcurl|libpq'
}
test_case "each supervisor is forked by orchestra-launch, the pilot's child" \
    forked_by_launcher

# More output than a pipe holds, on both streams, then a marker.
orch task submit loud --skip-test \
    --exec 'seq 1 200000; seq 1 1000 >&2; echo "last line %JOB" >&2' >/dev/null
wait_until 60 task_is loud done
whole_log() {
	expect_exit 0 orch task logs loud 0
	[ "$(wc -l <"$OUT")" = 201001 ] || fail "$(wc -l <"$OUT") log lines"
	[ "$(tail -n 1 "$OUT")" = "last line 0" ]
	[ "$(sed -n 200000p "$OUT")" = 200000 ]
	[ ! -e "$ORCHESTRA_HOME/jobs/$(job_id loud 0)-1.log" ]
}
test_case "all of a job's output is in its log, in its one file" whole_log

# Each supervisor, its job's end told, leaves a spare .job file; a start
# takes one by a rename instead of making an inode on the pilot's path
# (local.c, local_spare_take), and the job's record and log are its own.
spare_inodes() {
	stat -c %i "$ORCHESTRA_HOME"/jobs/spare/* 2>/dev/null | sort
}
has_spares() { [ -n "$(spare_inodes)" ]; }
wait_until 30 has_spares
spare_inodes >"$TMP/spares"
orch task submit spare --skip-test --exec 'echo mine %JOB' >/dev/null
wait_until 60 task_is spare done
takes_spare() {
	local f
	f=$ORCHESTRA_HOME/jobs/$(job_id spare 0)-1.job
	grep -qx "$(stat -c %i "$f")" "$TMP/spares" ||
	    fail "$f (inode $(stat -c %i "$f")) is no spare of $(tr '\n' ' ' <"$TMP/spares")"
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
	head -c 4096 "$f" | tr -d '\0' | grep -qx done ||
	    fail "$f holds no end record"
	expect_exit 0 orch task logs spare 0
	[ "$(cat "$OUT")" = "mine 0" ] || fail "log: $(cat "$OUT")"
	# Its supervisor left one in turn.
	has_spares || fail "no spare left"
}
test_case "a start takes a spare .job file an ended job's supervisor left" \
    takes_spare

# A writer that left the job's group holds the pipe; the job still ends.
orch task submit escape --skip-test \
    --exec 'setsid sh -c "sleep 20; echo late" & echo early %JOB' >/dev/null
escaped() {
	wait_until 15 task_is escape done
	expect_exit 0 orch task logs escape 0
	[ "$(cat "$OUT")" = "early 0" ]
}
test_case "a job whose leftover writer left its group ends with its shell" \
    escaped

# A supervisor killed while its job runs: the job is lost, what is left
# of its group killed, and it is queued again (it starts at the next
# period: a requeue alone does not hurry the pilot).
S1=$(super_pid "$L1" 1)
G1=$(sed -n '2s/^pgid \([0-9]*\)$/\1/p' "$ORCHESTRA_HOME/jobs/$L1-1.job")
[ -n "$S1" ] && [ -n "$G1" ] || fail "no supervisor for job $L1"
kill -KILL "$S1"
group_gone() { # PGID: no process of it left but zombies
	[ -z "$(ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/')" ]
}
requeued() {
	wait_until 30 job_is "$L1" assigned
	[ "$(db_value "SELECT count(*) FROM event WHERE job_id = $L1
	    AND old_status = 'running' AND new_status = 'assigned'")" = 1 ]
	wait_until 10 group_gone "$G1"
}
test_case "a job whose supervisor was killed is lost and queued again" requeued

# A supervisor stopped with SIGTERM not by the pilot (the pilot writes
# `kill` first), as at a machine's shutdown: it stops its job and records
# "stopped"; the job is queued again, as the infrastructure's failure,
# not killed (a killed job would never run again, even by a retry).
orch task submit shut --skip-test --exec 'sleep 600' >/dev/null
T0=$(job_id shut 0)
wait_until 30 job_is "$T0" running
wait_until 30 has_super "$T0" 1
kill -TERM "$(super_pid "$T0" 1)"
stopped_requeued() {
	wait_until 30 job_is "$T0" assigned
	[ "$(db_value "SELECT count(*) FROM event WHERE job_id = $T0
	    AND new_status = 'assigned'
	    AND detail = 'stopped from outside Orchestra'")" = 1 ] ||
	    fail "no requeue event of job $T0 saying why"
	[ "$(db_value "SELECT count(*) FROM event WHERE job_id = $T0
	    AND new_status = 'killed'")" = 0 ] || fail "job $T0 was killed"
	expect_exit 0 orch task kill shut
}
test_case "a job whose supervisor had a SIGTERM from outside is queued again" \
    stopped_requeued

# A supervisor killed after its job ended and before it recorded the end
# (held stopped over that moment, so that it is not luck): the launcher,
# the subreaper of its supervisors, gets the job's status and records it.
# The job is done and ran once (issue 17).
orch task submit ended --skip-test \
    --exec "echo ran >>$TMP/ledger; while [ ! -e $TMP/go ]; do sleep 0.05; done # %IN" \
    --inputs "@$TMP/two" >/dev/null
E0=$(job_id ended 0)
wait_until 30 has_super "$E0" 1
ledger_has() { [ "$(grep -c . "$TMP/ledger" 2>/dev/null)" -ge "$1" ]; }
wait_until 30 ledger_has 2
S0=$(super_pid "$E0" 1)
G0=$(sed -n '2s/^pgid \([0-9]*\)$/\1/p' "$ORCHESTRA_HOME/jobs/$E0-1.job")
[ -n "$S0" ] && [ -n "$G0" ] || fail "no supervisor for job $E0"
kill -STOP "$S0"
: >"$TMP/go"
is_zombie() { case $(ps -o stat= -p "$1") in Z*) ;; *) return 1 ;; esac; }
wait_until 30 is_zombie "$G0"
kill -KILL "$S0"
ended_once() {
	wait_until 30 task_is ended done
	[ "$(grep -c . "$TMP/ledger")" = 2 ] ||
	    fail "the jobs ran $(grep -c . "$TMP/ledger") times, not 2"
	[ "$(db_value "SELECT count(*) FROM event WHERE job_id = $E0
	    AND new_status = 'assigned' AND old_status = 'running'")" = 0 ]
	[ "$(db_value "SELECT attempts || ' ' || exit_code FROM job
	    WHERE id = $E0")" = "1 0" ]
}
test_case "a supervisor killed after its job ended: the end kept, no second run" \
    ended_once

# The launcher killed: the jobs go on; the pilot forks the next ones.
kill -KILL "$(launcher_pid)"
orch task submit after --skip-test --exec 'echo after %JOB' >/dev/null
without_launcher() {
	wait_until 30 task_is after done
	job_is "$L0" running
	kill -0 "$(super_pid "$L0" 1)"
	grep -q 'the launcher is gone' "$PILOT_LOG"
}
test_case "a killed launcher leaves its jobs running; the pilot forks the next" \
    without_launcher

# A supervisor killed after its job ended while no pilot runs: a pilot
# with a launcher again; it is killed, then a supervisor as above.  Its launcher outlives the pilot, the subreaper of its
# supervisors until the last one ends, and records the end; the next
# pilot finds it (torture.sh found a job run twice when the launcher left
# with the pilot, issue 17).
pilot_kill9
pilot_start --interval 60
pilot_wait_started
rm -f "$TMP/go"
orch task submit orphan --skip-test \
    --exec "echo ran >>$TMP/ledger2; while [ ! -e $TMP/go ]; do sleep 0.05; done # %IN" \
    --inputs "@$TMP/two" >/dev/null
O0=$(job_id orphan 0)
wait_until 30 has_super "$O0" 1
ledger2_has() { [ "$(grep -c . "$TMP/ledger2" 2>/dev/null)" -ge "$1" ]; }
wait_until 30 ledger2_has 2
S0=$(super_pid "$O0" 1)
G0=$(sed -n '2s/^pgid \([0-9]*\)$/\1/p' "$ORCHESTRA_HOME/jobs/$O0-1.job")
[ -n "$S0" ] && [ -n "$G0" ] || fail "no supervisor for job $O0"
pilot_kill9
kill -STOP "$S0"
: >"$TMP/go"
wait_until 30 is_zombie "$G0"
kill -KILL "$S0"
# Its end recorded by the launcher before a pilot looks again.
recorded() { grep -q '^done$' "$ORCHESTRA_HOME/jobs/$O0-1.job"; }
wait_until 30 recorded
pilot_start --interval 60
pilot_wait_started
orphan_once() {
	wait_until 30 task_is orphan done
	[ "$(grep -c . "$TMP/ledger2")" = 2 ] ||
	    fail "the jobs ran $(grep -c . "$TMP/ledger2") times, not 2"
	[ "$(db_value "SELECT attempts || ' ' || exit_code FROM job
	    WHERE id = $O0")" = "1 0" ]
}
test_case "a supervisor killed at its job's end with no pilot: the end kept" \
    orphan_once

# A supervisor killed between its vfork and its own write of the record's
# header (ORCHESTRA_TEST_SUPER_STOP=A, tests only, stops the supervisor
# of attempt A there): the job, which wrote the header itself before it
# ran, is lost, killed and queued again (the next period, 1 s, starts
# it again), not taken for one never started (no header) and run beside
# itself.  The pilot runs where every cgroup mount is read-only (a mount
# namespace of its own): a job's memory cgroup, killed whole with a lost
# job, would hide the case.
pilot_kill9
no_cgroup_pilot() {
	unshare -m sh -c '
		awk "\$3 ~ /^cgroup/ { print \$2 }" /proc/self/mounts |
		while read -r d; do
			mount --bind "$d" "$d" &&
			    mount -o remount,bind,ro "$d" || exit 1
		done || exit 1
		exec "$@"' sh "$ORCHESTRA_BIN" pilot "$@" >>"$PILOT_LOG" 2>&1 &
	PILOT_PID=$!
}
ORCHESTRA_TEST_SUPER_STOP=1 no_cgroup_pilot --interval 1
pilot_wait_started
no_cgroup() { grep -q "jobs' memory not enforced" "$PILOT_LOG"; }
wait_until 30 no_cgroup
orch task submit gap --skip-test --exec "echo start \$ORCHESTRA_ATTEMPT \
    >>$TMP/ledger3; sleep 3; echo end \$ORCHESTRA_ATTEMPT >>$TMP/ledger3" \
    >/dev/null
G0=$(job_id gap 0)
started1() { grep -qx 'start 1' "$TMP/ledger3" 2>/dev/null; }
wait_until 30 started1
wait_until 30 job_is "$G0" running
# The stopped supervisor: ours (this home), in state T.
stopped_super() {
	local p st
	ps -eo pid=,stat= | while read -r p st; do
		case $st in T*) ;; *) continue ;; esac
		tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" |
		    grep -qxF "ORCHESTRA_HOME=$ORCHESTRA_HOME" && echo "$p"
	done
}
has_stopped() { [ -n "$(stopped_super)" ]; }
wait_until 30 has_stopped
kill -KILL "$(stopped_super)"
gap_once() {
	wait_until 60 task_is gap done
	[ "$(db_value "SELECT attempts FROM job WHERE id = $G0")" = 2 ] ||
	    fail "job $G0 ran $(db_value "SELECT attempts FROM job
	        WHERE id = $G0") attempts, not 2"
	# Attempt 1 was killed before its end: never ran beside attempt 2.
	! grep -qx 'end 1' "$TMP/ledger3" ||
	    fail "attempt 1 ran on to its end: $(tr '\n' ';' <"$TMP/ledger3")"
	grep -qx 'end 2' "$TMP/ledger3"
}
test_case "a supervisor killed before its header: the job lost, not run twice" \
    gap_once

orch task kill long >/dev/null
wait_until 60 task_is long killed
once_each() {
	# Every attempt's end recorded once: one event into an end state.
	[ "$(db_value "SELECT count(*) FROM (SELECT job_id, count(*) AS n
	    FROM event WHERE kind = 'job' AND new_status IN
	    ('done', 'failed', 'killed') GROUP BY job_id) e
	    WHERE n <> 1")" = 0 ]
	wait_until 30 no_job_procs
}
test_case "every job's end recorded once; no process left" once_each

pilot_stop
