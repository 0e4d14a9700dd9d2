#!/bin/bash
# t0150-memory.sh - placement by memory (issue 19): a node's memory is
# shown and set live; a task whose jobs ask more memory than any node of
# its queue has is refused at submit, with nothing created; on a node of 4
# slots and 4 GiB, jobs asking 3 GiB run one at a time though slots are
# free, and why says it is memory they wait for; raised to 8 GiB, two run
# at once.  Sizes are binary (4G = 4 GiB) and checked.  A memory not known
# is filled by the pilot from /proc/meminfo.
#
# The pilot runs one cycle at a time (`pilot --once`), so that what it did
# not place it had the chance to; the jobs run on under their supervisors
# and end when the test lets them (a file), never after a fixed sleep.

. "$(dirname "$0")/lib.sh"

GIB=$((1 << 30))
orch init >/dev/null
lib_backend_ready
NODE=$(hostname)

init_memory() {
	expect_exit 0 orch node list --json
	json_check 'len(d) == 1 and d[0]["memory"] > 0 and
	    d[0]["memory_used"] == 0'
}
test_case "init records this machine's memory" init_memory

set_memory() {
	expect_exit 0 orch node set "$NODE" --max-cpu-slots 4 --cpu-slots 4 \
	    --memory 4G
	expect_stdout_line "cpu 0/4 slots \(max 4\), .*memory 0 bytes/4 GiB$"
	expect_exit 0 orch node list
	expect_stdout_line "^NAME +QUEUE +STATE +CPU +GPU +MEMORY +DONE +FAILED"
	expect_stdout_contains "0 bytes/4 GiB"
	expect_exit 0 orch node list --json
	json_check "d[0]['memory'] == 4 * $GIB"
	[ "$(db_value "SELECT memory FROM node")" = $((4 * GIB)) ] ||
	    fail "node.memory is not 4 GiB"
}
test_case "node set --memory 4G: 4 GiB, shown and stored" set_memory

bad_sizes() {
	expect_exit 2 orch node set "$NODE" --memory 4X
	expect_stderr_usage "--memory: invalid size '4X'"
	expect_exit 1 orch node set "$NODE" --memory 1000
	expect_stderr_line "invalid memory 1000 bytes: 0 \(not known\) or at least 1M"
	expect_exit 2 orch task submit t --exec true --memory 4X
	expect_stderr_usage "task submit: --memory: invalid size '4X'"
	expect_exit 1 orch task submit t --exec true --memory 4000
	expect_stderr_line "invalid memory '4000': at least 1M .*4000M"
	[ "$(db_value "SELECT memory FROM node")" = $((4 * GIB)) ] ||
	    fail "node.memory changed"
	[ "$(db_value "SELECT count(*) FROM task")" = 0 ] || fail "a task was made"
}
test_case "bad sizes are refused, nothing changed" bad_sizes

too_big() {
	expect_exit 1 orch task submit big --exec true --memory 5G
	expect_stderr_line "^orchestra: --memory 5 GiB a job is more than any node of queue 'default' has: the largest has 4 GiB$"
	[ "$(db_value "SELECT count(*) FROM task")" = 0 ] || fail "a task was made"
	[ "$(db_value "SELECT count(*) FROM job")" = 0 ] || fail "a job was made"
	expect_exit 1 env ORCHESTRA_DEFAULT_MEMORY=8G "$ORCHESTRA_BIN" \
	    task submit big --exec true
	expect_stderr_line "^orchestra: default_memory 8 GiB a job is more than any node of queue 'default' has: the largest has 4 GiB$"
	# Exactly the node's memory fits (killed at once: it never runs).
	expect_exit 0 orch task submit fits --exec true --memory 4G --json
	json_check "d['memory'] == 4 * $GIB"
	expect_exit 0 orch task kill fits
}
test_case "a task asking more than any node has is refused at submit" too_big

RUNS="$USER_VOL/runs"
GO="$TMP/go"
: >"$RUNS"
cat >"$TMP/job.sh" <<EOF
echo "start \$1" >>"$RUNS"
while [ ! -e "$GO" ]; do sleep 0.1; done
echo "end \$1" >>"$RUNS"
EOF
mkdir -p "$TMP/in"
for i in 0 1 2 3; do
	: >"$TMP/in/a$i"
done

held() {
	db_value "SELECT count(*) FROM job WHERE status IN ('pending', 'running', 'kill')"
}
cycle() {
	"$ORCHESTRA_BIN" pilot --once 2>>"$PILOT_LOG"
}
# One cycle, then: $1 jobs hold a slot.
cycle_held_is() {
	cycle
	[ "$(held)" -eq "$1" ]
}
started() {
	[ "$(grep -c '^start ' "$RUNS")" -ge "$1" ]
}

expect_exit 0 orch task submit mem --exec "sh $TMP/job.sh %JOB %IN" \
    --inputs "$TMP/in" --skip-test --memory 3G
wait_until 60 cycle_held_is 1
wait_until 60 started 1

one_at_a_time() {
	# More cycles place nothing: 3 slots free, 1 GiB of memory.
	cycle
	cycle
	[ "$(held)" -eq 1 ] || fail "$(held) jobs hold a slot"
	expect_exit 0 orch node list --json
	json_check "d[0]['cpu_used'] == 1 and d[0]['memory_used'] == 3 * $GIB"
	expect_exit 0 orch task show mem --json
	json_check "d['memory'] == 3 * $GIB and
	    [j['memory'] for j in d['job_list'] if j['status'] == 'running'] ==
	    [3 * $GIB]"
	expect_stdout_contains "waits for 3 GiB free on a node of queue 'default'; the largest has 1 GiB"
	expect_exit 0 orch queue
	expect_stdout_contains "waits for 3 GiB free on a node of queue 'default'; the largest has 1 GiB"
	# The task's summary, as GET /api/v1/tasks and the dashboard give it.
	expect_exit 0 orch task list --json
	json_check "[t['why'] for t in d if t['name'] == 'mem'] ==
	    [\"waits for 3 GiB free on a node of queue 'default'; the largest has 1 GiB\"]"
	expect_exit 0 orch task show mem
	expect_stdout_line "^memory: +3 GiB a job$"
}
test_case "3 GiB jobs on 4 GiB: one at a time, why says memory" one_at_a_time

two_at_once() {
	expect_exit 0 orch node set "$NODE" --memory 8G
	expect_stdout_contains "memory 3 GiB/8 GiB"
	wait_until 60 cycle_held_is 2
	cycle
	[ "$(held)" -eq 2 ] || fail "$(held) jobs hold a slot"
	wait_until 60 started 2
	expect_exit 0 orch node list --json
	json_check "d[0]['memory_used'] == 6 * $GIB"
}
test_case "node set --memory 8G, live: two at once, never three" two_at_once

all_done() {
	: >"$GO"
	pilot_start --interval 1
	wait_until 120 task_is mem done
	pilot_stop
	[ "$(grep -c '^end ' "$RUNS")" -eq 4 ] || fail "not 4 ends"
	expect_exit 0 orch node list --json
	json_check "d[0]['memory_used'] == 0 and d[0]['cpu_used'] == 0"
}
test_case "all four end; the memory is free again" all_done

pilot_fills() {
	expect_exit 0 orch node set "$NODE" --memory 0
	expect_stdout_line "memory -$"
	cycle
	expect_exit 0 orch node list --json
	json_check 'd[0]["memory"] > 0'
	[ "$(db_value "SELECT memory FROM node")" = \
	    $(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024)) ] ||
	    fail "not this machine's MemTotal"
}
test_case "a memory not known (0): the pilot takes this machine's MemTotal" \
    pilot_fills

test_case "no supervisor or job process is left" wait_until 30 no_job_procs
