#!/bin/bash
# t0105-pilot-live-slots.sh - an admin changes a node's cpu_slots with SQL
# while the pilot runs 40 one-second jobs: from 1 slot (one job at a time)
# to 4 (four at once), then back to 1: the running jobs are left to finish
# (none killed) and no new job starts until the node is below its new
# number.  The database refuses cpu_slots above max_cpu_slots.
#
# Concurrency is computed from the jobs' own records: a job writes its
# start and end inside the time it holds its slot (on Kubernetes too, where
# the simulator runs each Job's command on this machine: see lib.sh).

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
lib_backend_ready
NODE=$(hostname)
orch node set "$NODE" --max-cpu-slots 8 --cpu-slots 1 >/dev/null
RUNS="$USER_VOL/runs"
: >"$RUNS"

mkdir -p "$TMP/in"
for i in $(seq 0 39); do
	: >"$TMP/in/$(printf 'a%02d' "$i")"
done

cat >"$TMP/job.sh" <<EOF
echo "start \$1 \$(date +%s%N)" >>"$RUNS"
sleep 1
echo "end \$1 \$(date +%s%N)" >>"$RUNS"
EOF

orch task submit slots --exec "sh $TMP/job.sh %JOB %IN" --inputs "$TMP/in" \
    --skip-test >/dev/null

ended_at_least() {
	[ "$(grep -c '^end ' "$RUNS")" -ge "$1" ]
}

# Jobs holding a slot, according to the database.
held() {
	db_value "SELECT count(*) FROM job WHERE status IN ('pending', 'running', 'kill')"
}

held_is() {
	[ "$(held)" -eq "$1" ]
}

held_at_most() {
	[ "$(held)" -le "$1" ]
}

# Check the records: $1 python condition over `conc` (the number of jobs
# running at each start, the starting one included) and `t` (its time,
# ns), for every start after time $2 (ns) and before $3.
check_runs() {
	python3 - "$RUNS" "$1" "$2" "$3" <<'EOF'
import sys
start, end = {}, {}
for line in open(sys.argv[1]):
    kind, idx, t = line.split()
    (start if kind == "start" else end)[int(idx)] = int(t)
lo, hi = int(sys.argv[3]), int(sys.argv[4])
for i, t in sorted(start.items(), key=lambda x: x[1]):
    if not lo <= t < hi:
        continue
    conc = sum(1 for k, s in start.items()
               if s <= t and (k not in end or end[k] > t))
    if not eval(sys.argv[2]):
        sys.exit("job %d started with %d running: not %s" % (i, conc, sys.argv[2]))
EOF
}

sql_refused() {
	local rc
	db_query "UPDATE node SET cpu_slots = 9 WHERE name = '$NODE'" \
	    2>"$ERR" && rc=0 || rc=$?
	[ "$rc" -ne 0 ] || fail "cpu_slots 9 > max_cpu_slots 8 accepted"
	grep -qE "$CHECK_FAILED_RE" "$ERR" || fail "$(cat "$ERR")"
	[ "$(db_value "SELECT cpu_slots FROM node")" = 1 ] || fail "cpu_slots changed"
}
test_case "SQL: cpu_slots above max_cpu_slots is refused" sql_refused

pilot_start
wait_until 60 ended_at_least 3
t_raise=$(date +%s%N)
db_value "UPDATE node SET cpu_slots = 4 WHERE name = '$NODE'"

one_at_a_time() {
	check_runs 'conc == 1' 0 "$t_raise"
}
test_case "with 1 slot, one job at a time" one_at_a_time

four_at_once() {
	wait_until 60 held_is 4
	wait_until 60 ended_at_least 24
	check_runs 'conc <= 4' 0 99999999999999999999
	check_runs 'conc <= 4' "$t_raise" 99999999999999999999
	# Some job started with three others running.
	! check_runs 'conc < 4' "$t_raise" 99999999999999999999 2>/dev/null ||
	    fail "never 4 jobs at once from the records"
}
test_case "raised to 4 by SQL: 4 jobs at once, never more" four_at_once

wait_until 60 ended_at_least 24
# Lowered while at least two jobs hold a slot, read in the same statement
# (between a poll that records ends and the next placement fewer do).
HELD_SQL="SELECT count(*) FROM job WHERE status IN ('pending', 'running', 'kill')"
lower() {
	t_lower=$(date +%s%N)
	held_at_lower=$(db_value "UPDATE node SET cpu_slots = 1
	    WHERE name = '$NODE' AND ($HELD_SQL) >= 2 RETURNING ($HELD_SQL)")
	[ -n "$held_at_lower" ]
}
wait_until 60 lower

lowered() {
	echo "# $held_at_lower jobs held a slot when it was lowered to 1"
	[ "$held_at_lower" -ge 2 ] || fail "only $held_at_lower running when lowered"
	wait_until 60 held_at_most 1
	wait_until 120 task_is slots "done"
	expect_exit 0 orch task show slots --json
	json_check 'd["counts"]["done"] == 40 and d["counts"]["killed"] == 0 and
	    all(j["status"] == "done" and j["exit_code"] == 0 and
	        j["attempts"] == 1 for j in d["job_list"])'
	# A job that started more than 2 s after the change (the cycle in
	# flight may still launch, and a start under load takes a while)
	# started alone: no job starts until the node is below 1, that is
	# idle.
	check_runs 'conc == 1' $((t_lower + 2000000000)) 99999999999999999999
	[ "$(grep -c '^end ' "$RUNS")" -eq 40 ] || fail "not 40 ends recorded"
	[ "$(grep -c '^start ' "$RUNS")" -eq 40 ] || fail "not 40 starts recorded"
}
test_case "lowered to 1: nothing killed, then one job at a time; all done" lowered

pilot_stop

test_case "no supervisor or job process is left" wait_until 30 no_job_procs
