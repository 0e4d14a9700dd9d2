#!/bin/bash
# t0107-pilot-crash.sh - the pilot killed with SIGKILL at 20 different
# moments while it runs a 200-job task, and started again each time; twice
# it stays down long enough for running jobs to end without it.  In the
# end: every job ran exactly once, never more at once than the slots allow,
# each job's exit code in the database is the one it exited with (every
# 7th job fails with 3, so the task is `finalized`), the node's counters
# count each job once, and no process is left behind.
#
# The moments of the crashes, which two stay down and how long each job
# runs come from a seed, printed first ("# seed N"): to replay a run, give
# it back in ORCHESTRA_TEST_SEED (same machine: awk's rand() differs
# between awk implementations).

. "$(dirname "$0")/lib.sh"

SEED=${ORCHESTRA_TEST_SEED:-$(($(date +%s%N) / 1000 % 1000000000))}
case $SEED in
'' | *[!0-9]*) fail "ORCHESTRA_TEST_SEED '$SEED' is not a number" ;;
esac
echo "# seed $SEED (replay: ORCHESTRA_TEST_SEED=$SEED)"
# Crash i (1..20) comes after line i of $TMP/delays seconds (0.2 to 1.0;
# the whole task takes about 20 s of pilot time with 2 slots); crashes
# DOWN1 (2..10) and DOWN2 (11..19) come while jobs run and stay down until
# each has ended.
awk -v seed="$SEED" 'BEGIN {
	srand(seed)
	for (i = 1; i <= 20; i++)
		printf "%.2f\n", 0.2 + rand() * 0.8
	printf "%d %d\n", 2 + int(rand() * 9), 11 + int(rand() * 9)
}' >"$TMP/plan"
head -n 20 "$TMP/plan" >"$TMP/delays"
read -r DOWN1 DOWN2 < <(tail -n 1 "$TMP/plan")

SLOTS=2
NJOBS=200
orch init >/dev/null
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots $SLOTS >/dev/null
STARTS="$TMP/starts"
ENDS="$TMP/ends"
: >"$STARTS"
: >"$ENDS"

seq -f "$TMP/input-%g" 0 $((NJOBS - 1)) >"$TMP/list"

# "<index> <start ns>" at the start; "<index> <end ns> <code>" at the end.
# Sleeps 0 to 0.3 s (by index and seed); exits 3 when index % 7 == 3.
cat >"$TMP/job.sh" <<EOF
echo "\$1 \$(date +%s%N)" >>"$STARTS"
sleep \$(printf '0.%02d' \$(( (\$1 * 37 + $SEED) % 31 )))
code=0
[ \$((\$1 % 7)) -ne 3 ] || code=3
echo "\$1 \$(date +%s%N) \$code" >>"$ENDS"
exit \$code
EOF

orch task submit crash --exec "sh $TMP/job.sh %JOB %IN" --inputs "@$TMP/list" \
    >/dev/null

lines() {
	awk 'END { print NR }' "$1"
}

jobs_in_flight() {
	[ "$(lines "$STARTS")" -gt "$(lines "$ENDS")" ]
}

all_started_ended() {
	[ "$(lines "$STARTS")" -eq "$(lines "$ENDS")" ]
}

# Seconds to let the pilot run before crash $1 (the seed's plan).
delay() {
	sed -n "$1p" "$TMP/delays"
}

# Start the pilot and wait until it runs.  Right after a crash, a start
# may be refused (exit 1, "another pilot (pid <the dead one>)"): a
# supervisor the dead pilot had just forked still holds its lock, for an
# instant.  That is counted and the start tried again.
lock_races=0
start_after_crash() {
	local tries=0 rc
	while :; do
		pilot_start
		wait_until 60 lib_pilot_started "$PILOT_PID"
		if grep -q "pilot\[$PILOT_PID\]: pilot started" "$PILOT_LOG"; then
			return 0
		fi
		wait "$PILOT_PID" && rc=0 || rc=$?
		if [ "$rc" -ne 1 ] || [ "$tries" -ge 20 ] ||
		    ! tail -n 1 "$PILOT_LOG" | grep -q '^orchestra: another pilot'; then
			tail -n 5 "$PILOT_LOG" >&2
			fail "the pilot exited $rc at its start"
		fi
		lock_races=$((lock_races + 1))
		tries=$((tries + 1))
	done
}

early_exits=0
down_ends=0
for i in $(seq 1 20); do
	start_after_crash
	if [ "$i" -eq "$DOWN1" ] || [ "$i" -eq "$DOWN2" ]; then
		# Crash while jobs run, and stay down until each has ended.
		wait_until 60 jobs_in_flight
		pilot_kill9
		ends_at_kill=$(lines "$ENDS")
		wait_until 60 all_started_ended
		down_ends=$((down_ends + $(lines "$ENDS") - ends_at_kill))
	else
		sleep "$(delay "$i")"
		pilot_kill9
	fi
	if [ "$PILOT_RC" -ne 137 ]; then
		early_exits=$((early_exits + 1))
		echo "# crash $i: the pilot had exited $PILOT_RC by itself"
	fi
done
echo "# after 20 crashes (seed $SEED, down at $DOWN1 and $DOWN2):" \
    "$(lines "$ENDS") of $NJOBS jobs ended; $down_ends ended while no" \
    "pilot ran; $lock_races starts refused"

start_after_crash
wait_until 180 task_is crash finalized
pilot_stop

no_early_exit() {
	[ "$early_exits" -eq 0 ] || fail "the pilot exited by itself $early_exits times"
	[ "$down_ends" -gt 0 ] || fail "no job ended while the pilot was down"
}
test_case "20 crashes; jobs ended while no pilot ran" no_early_exit

once_each() {
	local dups
	dups=$(awk '{ print $1 }' "$STARTS" | sort -n | uniq -d | tr '\n' ' ')
	[ -z "$dups" ] || fail "jobs that ran more than once: $dups"
	[ "$(awk '{ print $1 }' "$STARTS" | sort -n | tr '\n' ' ')" = \
	    "$(seq 0 $((NJOBS - 1)) | tr '\n' ' ')" ] ||
	    fail "not every job ran"
}
test_case "every job ran exactly once" once_each

within_slots() {
	python3 - "$STARTS" "$ENDS" "$SLOTS" <<'EOF'
import sys
start = {int(l.split()[0]): int(l.split()[1]) for l in open(sys.argv[1])}
end = {int(l.split()[0]): int(l.split()[1]) for l in open(sys.argv[2])}
slots = int(sys.argv[3])
worst = 0
for i, t in start.items():
    conc = sum(1 for k, s in start.items() if s <= t < end[k])
    worst = max(worst, conc)
if worst > slots:
    sys.exit("%d jobs ran at once with %d slots" % (worst, slots))
EOF
}
test_case "never more jobs at once than slots" within_slots

exit_codes() {
	expect_exit 0 orch task show crash --json
	json_check 'd["status"] == "finalized" and
	    d["counts"]["failed"] == len([i for i in range(200) if i % 7 == 3]) and
	    d["counts"]["done"] == len([i for i in range(200) if i % 7 != 3]) and
	    all(j["exit_code"] == (3 if j["index"] % 7 == 3 else 0) and
	        j["status"] == ("failed" if j["index"] % 7 == 3 else "done") and
	        j["started"] and j["ended"]
	        for j in d["job_list"])'
	# The exit code in the database is the one the job wrote down.
	expect_exit 0 orch task show crash --json
	python3 - "$OUT" "$ENDS" <<'EOF'
import json, sys
codes = {int(l.split()[0]): int(l.split()[2]) for l in open(sys.argv[2])}
for j in json.load(open(sys.argv[1]))["job_list"]:
    if j["exit_code"] != codes[j["index"]]:
        sys.exit("job %d: exit code %r, it exited %d"
                 % (j["index"], j["exit_code"], codes[j["index"]]))
EOF
}
test_case "each job's exit code recorded; the task is finalized" exit_codes

counters() {
	expect_exit 0 orch node list --json
	json_check 'd[0]["completed"] == len([i for i in range(200) if i % 7 != 3]) and
	    d[0]["failed"] == len([i for i in range(200) if i % 7 == 3]) and
	    d[0]["cpu_used"] == 0'
}
test_case "the node's counters count each job once" counters

# Each job attempt's files (its end record, its log) stay until the task
# is removed; every record left must be complete: any other is a job the
# pilot lost track of.  Beside them only the locks of the memory cgroups'
# pool (src/backend/local.c, local_pool_claim) and the directory of spare
# .job files (local_spare_take).
nothing_left() {
	local f n=0
	wait_until 30 no_job_procs
	for f in "$ORCHESTRA_HOME"/jobs/*; do
		case $f in
		*.job)
			head -c 4096 "$f" | tr -d '\0' | grep -qx done ||
			    fail "$f, without an end record, left: $(head -c 200 "$f")"
			n=$((n + 1)) ;;
		*.log) [ -f "${f%.log}.job" ] || fail "$f left alone" ;;
		*/cgroup-*.lock) ;; # the locks of the pool's cgroups, kept
		*/spare) ;; # spare .job files for later starts (local.c)
		*) fail "$f left" ;;
		esac
	done
	echo "# $n job files of ended jobs"
}
test_case "no process left; every job file left holds an end record" \
    nothing_left
