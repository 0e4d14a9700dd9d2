#!/bin/bash
# t0109-pilot-standby.sh - two pilots on one PostgreSQL database: only the
# active one launches jobs; SIGKILL it and the standby takes over within
# 5 s; every job runs exactly once.  (On SQLite a second pilot exits at
# once instead: t0108.)

. "$(dirname "$0")/lib.sh"

if ! on_pg; then
	echo "# skip: a standby pilot needs PostgreSQL (SQLite: t0108)"
	exit 77
fi

orch init >/dev/null
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 4 >/dev/null
RAN=$TMP/ran
: >"$RAN"

pilot_start --verbose --interval 2
pilot_wait_started
active=$PILOT_PID

B_LOG=$TMP/standby.log
"$ORCHESTRA_BIN" pilot --verbose --interval 2 >"$B_LOG" 2>&1 &
standby=$!
stop_standby() {
	[ -n "$standby" ] || return 0
	kill -TERM "$standby" 2>/dev/null && wait "$standby" 2>/dev/null
	return 0
}
lib_at_exit stop_standby

standing_by() {
	grep -q "standby: another pilot holds the lock" "$B_LOG"
}
standby_waits() {
	wait_until 60 standing_by
	kill -0 "$standby" || fail "the standby exited: $(cat "$B_LOG")"
}
test_case "a second pilot stands by" standby_waits

# 60 jobs of 0.3 s, each recording its id as it starts.
seq -f "/in/%02g" 1 60 >"$TMP/list"
expect_exit 0 orch task submit sixty --skip-test --inputs "@$TMP/list" \
    --exec 'echo $ORCHESTRA_JOB_ID >>'"$RAN"'; sleep 0.3 # %IN'

ran_at_least() {
	[ "$(wc -l <"$RAN")" -ge "$1" ]
}
only_active_launches() {
	wait_until 120 ran_at_least 12
	! grep -q "cycle: [1-9][0-9]* launched" "$B_LOG" ||
	    fail "the standby launched jobs: $(grep cycle: "$B_LOG")"
}
test_case "only the active pilot launches jobs" only_active_launches

# SIGKILL the active pilot while jobs run: the standby takes over.
PILOT_PID=$active
t0=$(date +%s%N)
pilot_kill9
took_over() {
	grep -q "this one is active now" "$B_LOG"
}
takeover() {
	wait_until 30 took_over
	local ms=$((($(date +%s%N) - t0) / 1000000))
	echo "# the standby took over after $ms ms"
	[ "$ms" -le 5000 ] || fail "takeover took $ms ms (more than 5 s)"
}
test_case "the standby takes over within 5 s of a SIGKILL" takeover

once_each() {
	wait_until 180 task_is sixty done
	local dup
	[ "$(wc -l <"$RAN")" -eq 60 ] || fail "$(wc -l <"$RAN") starts for 60 jobs"
	dup=$(sort "$RAN" | uniq -d)
	[ -z "$dup" ] || fail "jobs that ran twice: $dup"
	[ "$(db_query "SELECT count(*) FROM job WHERE status = 'done'")" = 60 ] ||
	    fail "not every job is done"
}
test_case "the task ends done, every job ran exactly once" once_each

# Stopped at the top level: a test case runs in a subshell, which cannot
# wait for the standby.
kill -TERM "$standby"
wait "$standby" && B_RC=0 || B_RC=$?
standby=
stopped() {
	[ "$B_RC" -eq 0 ] || fail "the pilot exited $B_RC on SIGTERM"
	! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error" "$B_LOG" ||
	    fail "sanitizer report in the standby's log"
}
test_case "the new active pilot stops cleanly" stopped
