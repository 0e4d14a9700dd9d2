#!/bin/bash
# t0108-pilot-single.sh - one pilot per database: a second one (also with
# --once) exits 1 naming the first; `pilot --once` runs one cycle; SIGTERM
# stops the pilot with status 0 and leaves a running job running, and the
# next pilot records the end it missed; an idle pilot with --interval 30
# acts on a submit at once.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 2 >/dev/null

pilot_start
pilot_wait_started
first=$PILOT_PID

second_pilot() {
	expect_exit 1 orch pilot
	expect_stderr_line "^orchestra: another pilot \\(pid $first\\) is running on '$db'"
	expect_exit 1 orch pilot --once
	expect_stderr_line "^orchestra: another pilot \\(pid $first\\) is running"
	kill -0 "$first" || fail "the first pilot is gone"
}
# On PostgreSQL a second pilot stands by instead (t0109); --once does not.
second_pilot_pg() {
	expect_exit 1 orch pilot --once
	expect_stderr_line "^orchestra: another pilot holds the lock"
	kill -0 "$first" || fail "the first pilot is gone"
}
# The lock follows the file, not its name: a symlink to the database, a
# hard link to it, and a second ORCHESTRA_HOME that reaches it through a
# symlinked directory are all the same database.
other_paths() {
	ln -s "$db" "$TMP/link.db"
	ln "$db" "$TMP/hard.db"
	ln -s "$ORCHESTRA_HOME" "$TMP/home2"
	for url in "sqlite:$TMP/link.db" "sqlite:$TMP/hard.db" \
	    "$TMP/link.db"; do
		expect_exit 1 env ORCHESTRA_DB="$url" "$ORCHESTRA_BIN" pilot --once
		expect_stderr_line "^orchestra: another pilot \\(pid $first\\) is running on '${url#sqlite:}'"
	done
	expect_exit 1 env ORCHESTRA_HOME="$TMP/home2" "$ORCHESTRA_BIN" pilot
	expect_stderr_line "^orchestra: another pilot \\(pid $first\\) is running on '$TMP/home2/orchestra.db'"
	kill -0 "$first" || fail "the first pilot is gone"
}
if on_pg; then
	test_case "pilot --once beside an active pilot exits 1" second_pilot_pg
else
	test_case "a second pilot exits 1 naming the first" second_pilot
	test_case "by a symlink, a hard link or another home too" other_paths
fi

pilot_stop

# ---- --once -----------------------------------------------------------------

once_until_done() {
	expect_exit 0 orch pilot --once
	task_is "$1" "done"
}

once() {
	expect_exit 0 orch task submit one --exec 'echo once >%OUT/once.txt' \
	    --skip-test
	expect_exit 0 orch pilot --once
	[ "$(task_status one)" = running ] || fail "status $(task_status one) after one cycle"
	expect_exit 0 orch task show one --json
	json_check 'd["job_list"][0]["status"] in ("running", "pending", "done")'
	wait_until 60 once_until_done one
	[ "$(cat "$ORCHESTRA_HOME/volume/tester/one/once.txt")" = once ] ||
	    fail "the job's output"
	expect_exit 0 orch task show one --json
	json_check 'd["job_list"][0]["exit_code"] == 0'
}
test_case "pilot --once runs one cycle and exits 0" once

# ---- SIGTERM, a job running on --------------------------------------------------

# The job records its pid, waits (at most 120 s) for $TMP/go, then ends.
cat >"$TMP/wait.sh" <<EOF
echo \$\$ >"$TMP/wait.pid"
n=0
while [ ! -e "$TMP/go" ] && [ \$n -lt 1200 ]; do
	sleep 0.1
	n=\$((n + 1))
done
echo "went"
EOF

orch task submit waiter --exec "sh $TMP/wait.sh" --skip-test >/dev/null
pilot_start --interval 30
wait_until 60 test -s "$TMP/wait.pid"
wait_until 60 task_is waiter running
pilot_stop # fails the script unless the pilot exits 0
job_pid=$(cat "$TMP/wait.pid")

job_survives() {
	kill -0 "$job_pid" || fail "the job did not survive the pilot"
	[ "$(db_value "SELECT status FROM job WHERE task_id =
	    (SELECT id FROM task WHERE name = 'waiter')")" = running ] ||
	    fail "the job is not running in the database"
	: >"$TMP/go"
}
test_case "SIGTERM: the pilot exits 0, the running job runs on" job_survives

gone() {
	! kill -0 "$1" 2>/dev/null ||
	    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
wait_until 60 gone "$job_pid"

missed_end() {
	[ "$(task_status waiter)" = running ] || fail "status changed with no pilot"
}
test_case "the job ended while no pilot ran" missed_end

pilot_start --interval 30
wait_until 60 task_is waiter "done"

end_recorded() {
	expect_exit 0 orch task show waiter --json
	json_check 'd["job_list"][0]["status"] == "done" and
	    d["job_list"][0]["exit_code"] == 0 and
	    d["job_list"][0]["attempts"] == 1'
	expect_exit 0 orch task logs waiter
	expect_stdout_contains "went"
}
test_case "the next pilot records the end it missed" end_recorded

# ---- an idle pilot acts on a submit at once ---------------------------------

# Submit a one-job task; the job writes its start time (ns).  Print how
# many ms passed between the submit and the job's start.
submit_latency() {
	local t0
	t0=$(date +%s%N)
	orch task submit "$1" --exec "date +%%s%%N >$TMP/$1.start" --skip-test \
	    >/dev/null
	wait_until 60 test -s "$TMP/$1.start"
	echo $((($(cat "$TMP/$1.start") - t0) / 1000000))
}

quick_pickup() {
	local ms
	for name in quick1 quick2; do
		ms=$(submit_latency "$name")
		echo "# $name started $ms ms after its submit"
		[ "$ms" -lt 5000 ] || fail "$name started $ms ms after its submit"
		wait_until 60 task_is "$name" "done"
	done
}
test_case "an idle pilot (--interval 30) starts a submitted job within 5 s" \
    quick_pickup

pilot_stop

test_case "no supervisor or job process is left" wait_until 30 no_job_procs
