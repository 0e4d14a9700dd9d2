#!/bin/bash
# t0152-memory-limit.sh - memory enforced where the machine allows (issue
# 19): on the local backend each job runs in a memory cgroup it has alone
# held to the memory it was placed with (cgroup v2 delegated to the
# pilot, else the cgroup v1 memory controller).  A job that allocates
# 300 MiB under --memory 64M is killed, and ends failed "out of memory",
# exit 137, with `task show` saying "killed: out of memory (limit 64
# MiB)", its peak memory recorded (near the limit, never past it); one
# whose shell would go on after its allocating process was killed is
# killed whole; a neighbour on the same node runs on to done; a job under
# its limit ends done with its peak recorded; a process that left the
# job's process group is killed with its cgroup; a job killed for memory
# whose supervisor was killed before it said so still ends out of memory
# (the launcher asks the cgroup), not lost and run again; no job cgroup is
# left behind, nor one a pilot that died left, and the pool's (reused
# from job to job, t0153) are no more than the jobs that ran at once.
# The same through ORCHESTRA_URL, byte for byte.  Where this machine offers no memory
# cgroup (`orchestra doctor` says why), skipped.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

MIB=$((1 << 20))
orch init >/dev/null
lib_backend_ready
NODE=$(hostname)
orch node set "$NODE" --cpu-slots 4 >/dev/null

# The directory the jobs' cgroups go under (CGDIR), and the tag of ours
# in it (TAG, src/backend/local.c, local_cgroup_tag); else skipped.
lib_memory_enforced
# No cgroup of a job's own is left; those of the pool (one a job that
# ran at once, at most: 4 slots) stay for the next jobs.
no_cgroups_left() {
	local pooled
	! compgen -G "$CGDIR/job-$TAG-*" >/dev/null || return 1
	pooled=$(compgen -G "$CGDIR/pool-$TAG-*" | wc -l)
	[ "$pooled" -ge 1 ] && [ "$pooled" -le 4 ]
}

# The neighbour holds its slot until the test lets it go (a file in its
# output directory), so it runs while the hog is killed.
expect_exit 0 orch task submit neighbour --skip-test --memory 128M \
    --exec 'while [ ! -e %OUT/go ]; do sleep 0.1; done; echo survived'
expect_exit 0 orch task submit under --skip-test --memory 256M \
    --exec "python3 -c 'b = b\"x\" * (32 << 20); print(len(b))'"
# A job cgroup a pilot that died left behind, of a job no supervisor holds:
# the next pilot removes it.
mkdir "$CGDIR/job-$TAG-999-1"
pilot_start
# A process that left the job's process group (setsid) is still in its
# cgroup: killed with it at the job's end.
expect_exit 0 orch task submit escape --skip-test --memory 64M \
    --exec 'setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! >%OUT/pid'
job_running() {
	[ "$(db_value "SELECT j.status FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = '$1'")" = running ]
}
wait_until 120 job_running neighbour
expect_exit 0 orch task submit hog --skip-test --memory 64M \
    --exec "python3 -c 'b = b\"x\" * (300 << 20); print(len(b))'"
# Its shell would sleep for 10 minutes once python3 was killed.
expect_exit 0 orch task submit whole --skip-test --memory 64M \
    --exec "python3 -c 'b = b\"x\" * (300 << 20)'; sleep 600"
wait_until 120 task_is hog finalized
wait_until 120 task_is whole finalized
wait_until 120 task_is under done
wait_until 120 task_is escape done
ESCAPED=$(cat "$(db_value "SELECT out_dir FROM task WHERE name = 'escape'")/pid")
escaped_gone() { ! kill -0 "$ESCAPED" 2>/dev/null; }
test_case "what left the job's group is killed with its cgroup" \
    wait_until 30 escaped_gone
neighbour_runs() {
	job_running neighbour
}
test_case "the neighbour runs on past the hog's end" neighbour_runs
OUTDIR=$(db_value "SELECT out_dir FROM task WHERE name = 'neighbour'")
touch "$OUTDIR/go"
wait_until 120 task_is neighbour done

# A supervisor killed after its job was killed for memory and before it
# recorded that (held stopped over that moment, as t0127 does): the
# launcher, which records the end, asks the job's cgroup too: out of
# memory, not lost and run again; and it empties the cgroup.
expect_exit 0 orch task submit orphan --skip-test --memory 64M \
    --exec "while [ ! -e %OUT/go ]; do sleep 0.05; done; exec python3 -c 'b = b\"x\" * (300 << 20)'"
ORPHAN=$(db_value "SELECT j.id FROM job j JOIN task t ON t.id = j.task_id
    WHERE t.name = 'orphan'")
super_pid() {
	sed -n '1s/^pid \([0-9]*\)$/\1/p' "$ORCHESTRA_HOME/jobs/$ORPHAN-1.job" 2>/dev/null
}
has_super() { [ -n "$(super_pid)" ]; }
wait_until 60 has_super
SUP=$(super_pid)
GRP=$(sed -n '2s/^pgid \([0-9]*\)$/\1/p' "$ORCHESTRA_HOME/jobs/$ORPHAN-1.job")
[ -n "$GRP" ] || fail "no process group for job $ORPHAN"
kill -STOP "$SUP"
touch "$(db_value "SELECT out_dir FROM task WHERE name = 'orphan'")/go"
is_zombie() { case $(ps -o stat= -p "$1") in Z*) ;; *) return 1 ;; esac; }
wait_until 60 is_zombie "$GRP"
kill -KILL "$SUP"
wait_until 60 task_is orphan finalized
orphaned() {
	[ "$(db_value "SELECT attempts || ' ' || exit_code || ' ' || end_reason
	    FROM job WHERE id = $ORPHAN")" = "1 137 out of memory" ]
}
test_case "a supervisor killed after its job's OOM kill: out of memory" \
    orphaned
wait_until 60 no_cgroups_left
grep -q "removed the stale cgroup '$CGDIR/job-$TAG-999-1'" "$PILOT_LOG" ||
    fail "the stale cgroup was not swept"
pilot_stop

killed() {
	expect_exit 0 orch task show hog --json
	json_check "d['job_list'][0]['status'] == 'failed'"
	json_check "d['job_list'][0]['end_reason'] == 'out of memory'"
	json_check "d['job_list'][0]['exit_code'] == 137"
	json_check "d['job_list'][0]['memory'] == 64 * $MIB"
	# Its peak: the cgroup's, which held it to its limit.
	json_check "32 * $MIB <= d['job_list'][0]['peak_memory'] <= 64 * $MIB"
	expect_exit 0 orch task show hog
	expect_stdout_line "^0 +failed .* 137 \(out of memory\) +[0-9.]+ MiB / 64 MiB .* killed: out of memory \(limit 64 MiB\)$"
	expect_exit 0 orch history --task hog
	expect_stdout_line " failed +137 \(out of memory\) +[0-9.]+ MiB / 64 MiB "
	expect_exit 0 orch task show whole --json
	json_check "d['job_list'][0]['end_reason'] == 'out of memory'"
	json_check "d['job_list'][0]['exit_code'] == 137"
	expect_exit 0 orch task logs hog 0
	if grep -q "memory not enforced" "$OUT"; then
		fail "the hog ran unlimited"
	fi
}
test_case "a job past its limit ends failed, killed whole: out of memory" killed

under() {
	expect_exit 0 orch task show under --json
	json_check "d['job_list'][0]['status'] == 'done'"
	json_check "d['job_list'][0]['exit_code'] == 0"
	json_check "32 * $MIB <= d['job_list'][0]['peak_memory'] < 256 * $MIB"
	expect_exit 0 orch task show under
	expect_stdout_line "^0 +done .* 0 +[0-9.]+ MiB / 256 MiB "
	expect_exit 0 orch task show neighbour --json
	json_check "d['job_list'][0]['status'] == 'done'"
	expect_exit 0 orch task logs neighbour 0
	expect_stdout_line "^survived$"
}
test_case "jobs under their limits end done, their peaks recorded" under

TOKEN=$(orch user token tester 2>/dev/null)
serve_start
over_api() {
	# A window of history named, not "the last 30 days" read twice on
	# either side of a second.
	local args w="--since 2000-01-01 --until 2100-01-01"
	# shellcheck disable=SC2086 # words
	for args in "task show hog --json" "history --json $w" "history $w" \
	    "task show hog"; do
		remote_same "$TOKEN" $args
	done
	grep -qF "killed: out of memory (limit 64 MiB)" "$TMP/remote.out" ||
	    fail "the remote task show does not say why"
}
test_case "the same through the API and ORCHESTRA_URL" over_api
