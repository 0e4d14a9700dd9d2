#!/bin/bash
# t0153-memory-pool.sh - the jobs' memory cgroups are a pool, used by one
# job after another (issue 18: a cgroup made and removed for each job cost
# the kernel more than anything else a start does), and no job pays for
# an earlier one's: with one slot, a job that follows one killed for
# memory in the same cgroup (not made afresh: its OOM-kill count still
# says the earlier kill) ends done, not "out of memory", with a peak of
# its own; a job that leaves memory charged that the kernel cannot take
# back (a file in /dev/shm) has the next job get the cgroup made afresh,
# its peak small; a process a lost job left in the cgroup (its pilot,
# launcher and supervisor killed) is killed before the next job runs
# there; and many jobs on four slots leave no more than four cgroups and
# none of a job's own, through the launcher or forked by the pilot.
# Where this machine offers no memory cgroup, skipped.

. "$(dirname "$0")/lib.sh"

MIB=$((1 << 20))
orch init >/dev/null
lib_backend_ready
NODE=$(hostname)
orch node set "$NODE" --cpu-slots 1 >/dev/null

lib_memory_enforced
POOL0="$CGDIR/pool-$TAG-0"

# How many processes the kernel killed for the memory of cgroup $1.
oom_kills() {
	if [ "$CGROUP_KIND" = v1 ]; then
		sed -n 's/^oom_kill //p' "$1/memory.oom_control"
	else
		sed -n 's/^oom_kill //p' "$1/memory.events"
	fi
}

# The memory cgroup a job ran in, as it wrote it to its log.
job_cgroup() {
	expect_exit 0 orch task logs "$1" 0
	sed -n 's/^cgroup .*\///p' "$OUT"
}

# What the shell of a job prints of its own cgroup (v1: the memory
# controller's line; v2: the one line).
SAY_CGROUP='echo "cgroup $(grep -E "[:,]memory[:,]" /proc/self/cgroup ||
    grep "^0::" /proc/self/cgroup)"'

field() {
	expect_exit 0 orch task show "$1" --json
	python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["job_list"][0][sys.argv[2]])' "$OUT" "$2"
}

# The pages of python3 charged to the test's own cgroup, not to the
# first job's (where they would count as that job's leftovers).
python3 -c 'pass'
pilot_start

# ---- after an OOM kill, in the same cgroup ----
expect_exit 0 orch task submit hog --skip-test --memory 64M \
    --exec "$SAY_CGROUP; python3 -c 'b = b\"x\" * (300 << 20)'"
wait_until 120 task_is hog finalized
expect_exit 0 orch task submit after --skip-test --memory 64M \
    --exec "$SAY_CGROUP; python3 -c 'b = b\"x\" * (4 << 20); print(len(b))'"
task_ended() { task_is "$1" done || task_is "$1" finalized; }
wait_until 120 task_ended after
after_oom() {
	[ "$(field hog end_reason)" = "out of memory" ] ||
	    fail "the hog was not killed for memory"
	[ "$(job_cgroup hog)" = "pool-$TAG-0" ] ||
	    fail "the hog ran in $(job_cgroup hog), not pool-$TAG-0"
	[ "$(job_cgroup after)" = "pool-$TAG-0" ] ||
	    fail "the next job ran in $(job_cgroup after), not pool-$TAG-0"
	# The same cgroup, not made afresh: it counts the hog's kill.
	[ "$(oom_kills "$POOL0")" -ge 1 ] ||
	    fail "pool-$TAG-0 was made afresh: nothing tested"
	[ "$(field after status)" = done ] ||
	    fail "the next job: $(field after status) $(field after end_reason)"
	[ "$(field after exit_code)" = 0 ]
	# Its peak is its own, well below the hog's (near 64 MiB).
	local hog after
	hog=$(field hog peak_memory)
	after=$(field after peak_memory)
	[ "$hog" -ge $((32 * MIB)) ] || fail "the hog's peak: $hog"
	[ "$after" -lt $((24 * MIB)) ] || fail "the next job's peak: $after"
}
test_case "a job after one killed for memory, in its cgroup: done" after_oom

# ---- memory left charged: the cgroup made afresh ----
SHM=/dev/shm/orchestra-t0153-$$
shm_cleanup() { rm -f "$SHM"; }
lib_at_exit shm_cleanup
expect_exit 0 orch task submit shm --skip-test --memory 64M \
    --exec "$SAY_CGROUP; head -c $((20 * MIB)) /dev/zero >$SHM"
wait_until 120 task_is shm done
expect_exit 0 orch task submit fresh --skip-test --memory 64M \
    --exec "$SAY_CGROUP; echo small"
wait_until 120 task_is fresh done
left_charged() {
	[ "$(job_cgroup shm)" = "pool-$TAG-0" ] &&
	    [ "$(job_cgroup fresh)" = "pool-$TAG-0" ] ||
	    fail "not the same entry of the pool"
	[ -s "$SHM" ] || fail "the shm job left no file"
	# Made afresh: the hog's kill is no longer counted.
	[ "$(oom_kills "$POOL0")" = 0 ] ||
	    fail "pool-$TAG-0 was not made afresh"
	local peak
	peak=$(field fresh peak_memory)
	[ "$peak" -lt $((8 * MIB)) ] || fail "the next job's peak: $peak"
}
test_case "memory left charged: the next job gets the cgroup afresh" \
    left_charged
shm_cleanup

# ---- a lost job's process in the cgroup ----
# Its first attempt leaves a process of its own session in the cgroup and
# runs on; the next one (after the loss) says whether that one lives.
expect_exit 0 orch task submit stray --skip-test --memory 64M \
    --exec "$SAY_CGROUP; if [ -e %OUT/pid ]; then
	case \$(cut -d' ' -f3 /proc/\$(cat %OUT/pid)/stat 2>/dev/null) in
	''|Z) echo stray gone ;; *) echo stray alive ;; esac
	exit 0; fi
	setsid sleep 600 </dev/null >/dev/null 2>&1 & echo \$! >%OUT/pid.new
	mv %OUT/pid.new %OUT/pid; sleep 600"
STRAY_ID=$(db_value "SELECT j.id FROM job j JOIN task t ON t.id = j.task_id
    WHERE t.name = 'stray'")
STRAY_OUT=$(db_value "SELECT out_dir FROM task WHERE name = 'stray'")
has_pid() { [ -s "$STRAY_OUT/pid" ]; }
wait_until 60 has_pid
STRAY=$(cat "$STRAY_OUT/pid")
SUP=$(sed -n '1s/^pid \([0-9]*\)$/\1/p' "$ORCHESTRA_HOME/jobs/$STRAY_ID-1.job")
[ -n "$SUP" ] || fail "no supervisor for job $STRAY_ID"
LAUNCHER=$(ps -o ppid= -p "$SUP" | tr -d ' ')
# Nothing left to clean up after it: its pilot, its launcher (when it
# has one, else the pilot is the parent) and itself killed.
pilot_kill9
if [ -n "$LAUNCHER" ] && [ "$LAUNCHER" != 1 ] &&
    [ "$(cat "/proc/$LAUNCHER/comm" 2>/dev/null)" = orchestra-launc ]; then
	kill -KILL "$LAUNCHER"
fi
kill -KILL "$SUP"
sup_gone() { ! kill -0 "$SUP" 2>/dev/null; }
wait_until 30 sup_gone
# Killed, a process whose parent was killed may stay a zombie here (no
# init reaps it): dead all the same, and out of its cgroup.
stray_dead() {
	case $(cut -d' ' -f3 "/proc/$STRAY/stat" 2>/dev/null) in
	'' | Z) ;;
	*) return 1 ;;
	esac
}
stray_there() {
	! stray_dead && grep -qx "$STRAY" "$POOL0/cgroup.procs"
}
test_case "the lost job's process is in the pool's cgroup" stray_there
pilot_start
second_attempt() {
	[ "$(db_value "SELECT attempts FROM job WHERE id = $STRAY_ID")" -ge 2 ] &&
	    task_is stray done
}
wait_until 120 second_attempt
stray_killed() {
	expect_exit 0 orch task logs stray 0
	expect_stdout_line "^stray gone$"
	[ "$(job_cgroup stray)" = "pool-$TAG-0" ] ||
	    fail "the next attempt ran in $(job_cgroup stray)"
	stray_dead
}
test_case "a lost job's process is killed before its cgroup is reused" \
    stray_killed

# ---- many jobs, four slots: four cgroups at most ----
orch node set "$NODE" --cpu-slots 4 >/dev/null
mkdir "$TMP/in"
for i in $(seq 40); do : >"$TMP/in/$i"; done
expect_exit 0 orch task submit many --skip-test --memory 16M \
    --inputs "$TMP/in" --exec ': %IN'
wait_until 180 task_is many done
bounded() {
	local pooled
	! compgen -G "$CGDIR/job-$TAG-*" >/dev/null ||
	    fail "a cgroup of a job's own is left: $(compgen -G "$CGDIR/job-$TAG-*")"
	pooled=$(compgen -G "$CGDIR/pool-$TAG-*" | wc -l)
	[ "$pooled" -ge 1 ] && [ "$pooled" -le 4 ] ||
	    fail "$pooled cgroups in the pool after 40 jobs on 4 slots"
}
test_case "many jobs leave no more cgroups than slots" bounded
pilot_stop

# The same where the pilot forks each supervisor itself (no launcher
# beside its program): the supervisor inherits the pool's lock, and lets
# it go before the pilot can see its end.
mkdir "$TMP/bin"
cp "$ORCHESTRA_BIN" "$TMP/bin/orchestra"
ORCHESTRA_BIN="$TMP/bin/orchestra" pilot_start
expect_exit 0 orch task submit forked --skip-test --memory 16M \
    --inputs "$TMP/in" --exec ': %IN'
wait_until 180 task_is forked done
test_case "forked by the pilot: no more cgroups than slots" bounded
grep -q "no launcher at" "$PILOT_LOG" ||
    fail "the pilot found a launcher beside $TMP/bin/orchestra"
pilot_stop

# ---- a pilot that stops removes the pool's cgroups no job holds ----
stopped_clean() {
	! compgen -G "$CGDIR/pool-$TAG-*" >/dev/null ||
	    fail "left behind: $(compgen -G "$CGDIR/pool-$TAG-*" | tr '\n' ' ')"
}
test_case "a pilot that stops leaves no cgroup of the pool behind" \
    stopped_clean
# One a job still runs in stays: its supervisor outlives the pilot.
pilot_start
expect_exit 0 orch task submit held --skip-test --memory 16M \
    --exec "$SAY_CGROUP; sleep 600"
said_cgroup() {
	"$ORCHESTRA_BIN" task logs held 0 2>/dev/null | grep -q '^cgroup '
}
wait_until 60 said_cgroup
HELD=$(job_cgroup held)
pilot_stop
held_stays() {
	[ -d "$CGDIR/$HELD" ] || fail "$HELD, a running job's, was removed"
	[ "$(compgen -G "$CGDIR/pool-$TAG-*")" = "$CGDIR/$HELD" ] ||
	    fail "more than $HELD left: $(compgen -G "$CGDIR/pool-$TAG-*" |
		tr '\n' ' ')"
	[ -n "$(cat "$CGDIR/$HELD/cgroup.procs")" ] ||
	    fail "no process of the job in $HELD"
}
test_case "the cgroup of a job still running stays" held_stays
