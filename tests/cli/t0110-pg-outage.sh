#!/bin/bash
# t0110-pg-outage.sh - the database goes away for 10 s in the middle of a
# 200-job task: the pilot logs it, keeps the jobs it launched running,
# retries with backoff, and resumes; the task still ends done, every job
# ran exactly once, and the pilot never exited; the admins are mailed
# that the pilot fails (ORCHESTRA_MAIL_ALARM, 3 s here), straight to a
# real SMTP server on loopback, and that it recovered; the first job
# after the outage starts within 1.5 s of the server's return (the backoff
# is capped at 1 s).  A pilot started while the server is down says so
# once, waits, and runs when it is back (or exits 0 on SIGTERM).
# PostgreSQL only,
# on a private server of its own (the shared one must stay up for the
# others).

. "$(dirname "$0")/lib.sh"

if ! on_pg; then
	echo "# skip: a database server to stop needs PostgreSQL"
	exit 77
fi

PGD=$(mktemp -d /tmp/orchestra-pg-outage-XXXXXX)
stop_private_pg() {
	"$SRCDIR/tests/lib/pg-stop.sh" "$PGD"
}
lib_at_exit stop_private_pg
"$SRCDIR/tests/lib/pg-start.sh" "$PGD" || fail "cannot start PostgreSQL"
psql -X -q "$(cat "$PGD/url")" -c "CREATE DATABASE outage" >/dev/null
ORCHESTRA_DB="$(dirname "$(cat "$PGD/url")")/outage"
export ORCHESTRA_DB

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as=()
[ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
pg_down() {
	"${as[@]}" "$pg_bin/pg_ctl" -D "$PGD/data" -m fast -w stop >/dev/null
}
pg_up() {
	"${as[@]}" "$pg_bin/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w \
	    -o "-p $(cat "$PGD/port") -k $PGD -c listen_addresses=127.0.0.1 -c fsync=off" \
	    start >/dev/null
}

orch init >/dev/null
orch user set tester --email tester@lab.example >/dev/null
smtp_sink_start
export ORCHESTRA_MAIL_ALARM=3s
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 4 >/dev/null
RAN=$TMP/ran
STARTS=$TMP/starts # "ns" lines: when each job started
: >"$RAN"
: >"$STARTS"

pilot_start --interval 2
pilot_wait_started

# 200 jobs of 0.1 to 0.3 s, each recording its id as it starts.
seq -f "/in/%03g" 1 200 >"$TMP/list"
expect_exit 0 orch task submit two-hundred --skip-test --inputs "@$TMP/list" \
    --exec 'date +%%s%%N >>'"$STARTS"'; echo $ORCHESTRA_JOB_ID >>'"$RAN"'; sleep 0.$((ORCHESTRA_JOB_ID % 3 + 1)) # %IN'

ran_at_least() {
	[ "$(wc -l <"$RAN")" -ge "$1" ]
}
wait_until 120 ran_at_least 30

outage() {
	local before after
	pg_down
	before=$(wc -l <"$RAN")
	# The outage itself lasts 10 s: this sleep is the scenario, not a wait
	# on a condition.
	sleep 10
	kill -0 "$PILOT_PID" || fail "the pilot exited while the database was down"
	grep -q "cycle failed" "$PILOT_LOG" || fail "the pilot did not log the outage"
	after=$(wc -l <"$RAN")
	# At most the jobs already launched: no new launch without the database.
	[ "$((after - before))" -le 4 ] ||
	    fail "$((after - before)) jobs started while the database was down"
	pg_up
	date +%s%N >"$TMP/up"
}
test_case "the database stops for 10 s; the pilot logs it and lives" outage

# A job started after the server came back.
started_since_up() {
	[ "$(sort -n "$STARTS" | awk -v up="$(cat "$TMP/up")" \
	    '$1 > up { print; exit }')" != "" ]
}
quick_after_outage() {
	local up first ms
	wait_until 60 started_since_up
	up=$(cat "$TMP/up")
	first=$(sort -n "$STARTS" | awk -v up="$up" '$1 > up { print; exit }')
	ms=$(((first - up) / 1000000))
	echo "# the first job started $ms ms after the server's return"
	[ "$ms" -lt 1500 ] || fail "the first job started $ms ms after the return"
}
test_case "the first job after the outage starts within 1.5 s" \
    quick_after_outage

resumed() {
	wait_until 240 task_is two-hundred done
	kill -0 "$PILOT_PID" || fail "the pilot exited"
	local dup
	[ "$(wc -l <"$RAN")" -eq 200 ] || fail "$(wc -l <"$RAN") starts for 200 jobs"
	dup=$(sort "$RAN" | uniq -d)
	[ -z "$dup" ] || fail "jobs that ran twice: $dup"
	[ "$(db_query "SELECT count(*) FROM job WHERE status = 'done'")" = 200 ] ||
	    fail "not every job is done"
}
test_case "the task ends done, every job ran exactly once" resumed

alarmed() {
	wait_until 60 sink_count 3
	sink_mails | cut -d'|' -f1,2 >"$TMP/got"
	host=$(hostname)
	printf '%s\n' "tester@lab.example|[orchestra] pilot on $host failing" \
	    "tester@lab.example|[orchestra] pilot on $host recovered" \
	    "tester@lab.example|[orchestra] task user.tester.two-hundred done" |
	    diff -u - "$TMP/got" >&2 || fail "the mails differ"
	grep -q "The last error: " "$SMTP_SINK"/mail/000001.eml ||
	    fail "the alarm does not say why"
}
test_case "the admins are told the pilot fails, then that it recovered" alarmed

pilot_stop

# ---- a pilot started while the server is down ------------------------------

unset ORCHESTRA_MAIL_ALARM
pg_down
pilot_start --interval 2
waiting_pilot=$PILOT_PID
said_unreachable() {
	grep -q "pilot\[$waiting_pilot\]: database .* unreachable at start-up" \
	    "$PILOT_LOG"
}
waits_for_server() {
	wait_until 60 said_unreachable
	# It retries without a word more, and lives, until the server is
	# back.  The outage lasts 3 s more (3 retries at 1 s): this sleep is
	# the scenario, not a wait on a condition.
	sleep 3
	kill -0 "$waiting_pilot" || fail "the pilot exited"
	[ "$(grep -c "pilot\[$waiting_pilot\]: database .* unreachable" \
	    "$PILOT_LOG")" = 1 ] || fail "not one 'unreachable' line"
}
test_case "a pilot started while the server is down says so once and waits" \
    waits_for_server
pg_up
runs_when_back() {
	pilot_wait_started
	grep -q "pilot\[$waiting_pilot\]: pilot started" "$PILOT_LOG" ||
	    fail "the pilot did not start"
	expect_exit 0 orch task submit after --exec true --skip-test
	wait_until 60 task_is after "done"
}
test_case "it runs once the server is back" runs_when_back
pilot_stop

pg_down
pilot_start
stop_while_waiting() {
	wait_until 60 grep -q "pilot\[$PILOT_PID\]: database .* unreachable" \
	    "$PILOT_LOG"
}
test_case "a pilot waiting for the server..." stop_while_waiting
kill -TERM "$PILOT_PID"
wait "$PILOT_PID" && rc=0 || rc=$?
PILOT_PID=""
stopped_zero() {
	[ "$1" = 0 ] || fail "exit $1 on SIGTERM while waiting, expected 0"
}
test_case "... exits 0 on SIGTERM" stopped_zero "$rc"
pg_up
