#!/bin/bash
# t0113-retention.sh - retention on a moved clock (the test-only
# ORCHESTRA_TEST_NOW_OFFSET moves every command's wall clock forward): an
# ended task's owner is mailed at its end, at half the period and one day
# before removal; the task is removed when the period is over, its output
# files left in place; a retry starts the period again; retention 0 keeps
# a task forever; the outbox forgets mails done with for 30 days.  Mails
# go to a real SMTP server on loopback.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
orch user set tester --email tester@lab.example >/dev/null
smtp_sink_start

# One pilot cycle at a moved clock (a duration: 0, "7210m" …).
cycle_at() { # OFFSET
	ORCHESTRA_TEST_NOW_OFFSET=$1 "$ORCHESTRA_BIN" pilot --once \
	    2>>"$TMP/pilot-once.log"
}
# Cycles at OFFSET until CMD succeeds.
cycles_until() { # OFFSET CMD...
	local off=$1
	shift
	cycle_at "$off"
	"$@"
}

orch task submit old --skip-test --exec 'echo kept >%OUT/result.txt' >/dev/null
printf '/a\n/b\n' >"$TMP/two"
orch task submit fin --skip-test --exec 'exit $(( %JOB % 2 )) # %IN' \
    --inputs "@$TMP/two" >/dev/null
orch task submit forever --skip-test --retention 0 --exec 'true' >/dev/null
wait_until 60 cycles_until 0 task_is old done
wait_until 60 cycles_until 0 task_is fin finalized
wait_until 60 cycles_until 0 task_is forever done
# A --once drain is bounded by its cycle's time: a mail it had no time
# for goes in the next cycle.
wait_until 60 cycles_until 0 sink_count 3

subjects() {
	sink_mails | cut -d'|' -f2
}
# Mails received after the first N, subjects only, sorted.
subjects_after() { # N
	subjects | tail -n +"$(($1 + 1))" | sort
}

# The removal date each mail states: the task's end + 10 days.
removal_of() { # TASK
	python3 -c 'import sys, time
print(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(sys.argv[1]) / 1000 + 864000)))' \
	    "$(db_value "SELECT ended_ms FROM task WHERE name = '$1'")"
}

test_case "at the end: a mail stating the removal date" eval '
	f=$(grep -l "task user.tester.old done" "$SMTP_SINK"/mail/*.eml) &&
	grep -q "It will be removed on $(removal_of old) UTC" "$f" &&
	f=$(grep -l "task user.tester.forever done" "$SMTP_SINK"/mail/*.eml) &&
	grep -q "It is kept until it is deleted" "$f"'

test_case "before half the period: no warning" eval '
	cycle_at 7190m && sink_count 3'

# Half of 10 days is 7200 minutes.  Two warnings: the second may need a
# second cycle (each is queued once: the warned mark).
wait_until 60 cycles_until 7210m sink_count 5
test_case "at half the period: one warning each (retention 0: none)" eval '
	subjects_after 3 >"$TMP/s" &&
	printf "%s\n" "[orchestra] task user.tester.fin will be removed on $(removal_of fin) UTC" \
	    "[orchestra] task user.tester.old will be removed on $(removal_of old) UTC" |
	    sort | diff -u - "$TMP/s" >&2'
test_case "the half-period warning is sent once" eval '
	cycle_at 7300m && cycle_at 12900m && sink_count 5'

# A retry of fin at day 6 starts its period again when it ends again.
orch task retry fin >/dev/null
wait_until 60 cycles_until 8640m task_is fin finalized
fin_ended=$(db_value "SELECT ended_ms FROM task WHERE name = 'fin'")
wait_until 60 cycles_until 8640m sink_count 6
test_case "retry: the task's end is later, and mailed again" eval '
	[ "$fin_ended" -gt $(( $(date +%s) * 1000 + 5 * 86400000 )) ] &&
	subjects | tail -n 1 | grep -qx "\[orchestra\] task user.tester.fin finalized"'

# One day before the end of old's period: 9 days = 12960 minutes.
cycle_at 12970m
test_case "one day before removal: a warning for old only" eval '
	sink_count 7 &&
	subjects | tail -n 1 | grep -qx "\[orchestra\] task user.tester.old will be removed on $(removal_of old) UTC"'

test_case "before the period's end: nothing removed" eval '
	cycle_at 14390m && task_is old done'

# The end of old's period: 10 days = 14400 minutes.
cycle_at 14410m
test_case "at the period's end: removed, its output files kept" eval '
	[ -z "$(task_status old)" ] &&
	[ "$(cat "$ORCHESTRA_HOME/volume/tester/old/result.txt")" = kept ] &&
	[ "$(db_value "SELECT count(*) FROM event WHERE kind = '"'"'task'"'"'
	    AND new_status = '"'"'removed'"'"'
	    AND detail = '"'"'retention expired'"'"'")" -eq 1 ]'
test_case "the retried task stays (its period began again), so does retention 0" eval '
	task_is fin finalized && task_is forever done'

# fin ended again at day 6: its half-period warning at day 11, removal at 16.
cycle_at 15850m
test_case "the retried task: warned at half its new period" eval '
	sink_count 8 &&
	subjects | tail -n 1 | grep -qx "\[orchestra\] task user.tester.fin will be removed on $(removal_of fin) UTC"'
cycle_at 23050m
test_case "the retried task: removed at the end of its new period" eval '
	[ -z "$(task_status fin)" ] && task_is forever done'
test_case "retention 0: never warned, never removed (a year on)" eval '
	cycle_at 365d && task_is forever done &&
	! subjects | grep -q "forever will be removed"'
test_case "mails done with for 30 days are deleted from the outbox" eval '
	[ "$(db_value "SELECT count(*) FROM mail")" -eq 0 ] &&
	grep -q "mail: 8 old rows deleted" "$TMP/pilot-once.log"'
