#!/usr/bin/env bash
# bench-mail.sh - the mail figures of issue 8, with the release build, the
# local backend on a real SQLite file and a real SMTP server on loopback
# (tests/lib/smtp-sink.py, aiosmtpd):
#
#   backlog   N mails (10,000) queued at once, drained while a task of J
#             (200) trivial jobs runs through S (8) slots: time to drain,
#             mails/s, the cycles' durations (mean, median, 90th
#             percentile, longest), and the task's submit-to-done time,
#             beside the same task's on the same pilot with no mail
#             waiting;
#   end mail  for R (20) one-job tasks, one after another: how many whole
#             cycles the pilot ran after the one that recorded the task's
#             end before its mail was sent (0: none), and the time from
#             the end (the job's end) to the mail received by the server.
#
#   bench/bench-mail.sh [--mails N] [--jobs J] [--slots S] [--runs R]
#                       [--bin PATH] [--keep] [--pin]
#
# --pin runs the SMTP server on CPU 1 and the pilot (its jobs and its
# mail thread with it) on CPU 0, as if the server were another machine:
# without it the server's CPU (most of a core while it takes 500 mails a
# second) is taken from the pilot's on a 2-core machine.
# --keep leaves the pilot's log and the database in the directory named
# at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

mails=10000 jobs=200 slots=8 runs=20 bin= keep= pin=
while [ $# -gt 0 ]; do
	case $1 in
	--mails) mails=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--slots) slots=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--pin) pin=1; shift ;;
	*) echo "usage: $0 [--mails N] [--jobs J] [--slots S] [--runs R] [--bin PATH] [--keep] [--pin]" >&2
	   exit 2 ;;
	esac
done
if [ -z "$bin" ]; then
	cmake --preset release >/dev/null
	cmake --build --preset release -j 2 >/dev/null
	bin=$PWD/build/release/orchestra
fi

home=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-bench-mail-XXXXXX")
pilot='' sink=''
cleanup() {
	[ -n "$pilot" ] && kill "$pilot" 2>/dev/null && wait "$pilot" 2>/dev/null
	[ -n "$sink" ] && kill "$sink" 2>/dev/null && wait "$sink" 2>/dev/null
	if [ -n "$keep" ]; then
		echo "kept: $home" >&2
	else
		rm -rf "$home"
	fi
}
trap cleanup EXIT
export ORCHESTRA_HOME=$home ORCHESTRA_CONF=/dev/null ORCHESTRA_USER=bench
db=$home/orchestra.db
q() { sqlite3 -cmd '.timeout 10000' "$db" "$1"; }
now_ns() { date +%s%N; }
status() { q "SELECT status FROM task WHERE name = '$1'"; }
wait_for() { # SECS CMD...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || { echo "bench: timed out: $*" >&2; exit 1; }
		sleep 0.02
	done
}
is_done() { [ "$(status "$1")" = done ]; }
received() { find "$home/mail" -name '*.eml' | wc -l; }
received_at_least() { [ "$(received)" -ge "$1" ]; }

server_cpu=() pilot_cpu=()
if [ -n "$pin" ]; then
	server_cpu=(taskset -c 1) pilot_cpu=(taskset -c 0)
fi
"${server_cpu[@]}" python3 tests/lib/smtp-sink.py --dir "$home/mail" --port-file "$home/port" \
	2>"$home/sink.log" &
sink=$!
wait_for 30 test -s "$home/port"
export ORCHESTRA_SMTP_URL="smtp://127.0.0.1:$(cat "$home/port")"
export ORCHESTRA_MAIL_FROM=orchestra@bench.example

node=$("$bin" init --json | sed -n 's/.*"node": "\(.*\)".*/\1/p')
"$bin" node set "$node" --max-cpu-slots "$slots" --cpu-slots "$slots" >/dev/null
"$bin" user set bench --email bench@bench.example >/dev/null
"${pilot_cpu[@]}" "$bin" pilot --interval 30 --verbose 2>"$home/pilot.log" &
pilot=$!
wait_for 30 grep -q 'pilot started' "$home/pilot.log"

# A task of $jobs jobs: submit to done, in ns.
run_task() { # NAME
	local t0
	seq -f "/in/%04g" 1 "$jobs" >"$home/list"
	t0=$(now_ns)
	"$bin" task submit "$1" --skip-test --inputs "@$home/list" \
		--exec 'true %IN' >/dev/null
	wait_for 600 is_done "$1"
	echo $(($(now_ns) - t0))
}

# The cycle lines of the pilot's log from line $1 on: what each took, in
# ms (the mail thread drains beside them: no drain in a cycle).
cycles_from() {
	tail -n +"$1" "$home/pilot.log" |
	    sed -n 's/.* cycle: .* took \([0-9.]*\) ms$/\1/p'
}

# Baseline: the task with no mail waiting (its own end mail aside).
line0=$(wc -l <"$home/pilot.log")
base_ns=$(run_task base)
wait_for 60 received_at_least 1
base_cycles=$(cycles_from "$line0")

# The backlog: $mails mails queued at once, then the same task.
now_ms=$(($(date +%s) * 1000))
python3 - "$mails" "$now_ms" >"$home/insert.sql" <<'PY'
import sys
n, now = int(sys.argv[1]), int(sys.argv[2])
print("BEGIN;")
for i in range(n):
    print("INSERT INTO mail (created_ms, kind, rcpt, subject, body, next_ms)"
          " VALUES (%d, 'task-end', 'user%d@bench.example',"
          " '[orchestra] task user.bench.t%d done', 'Task done.\n', %d);"
          % (now, i, i, now))
print("COMMIT;")
PY
before=$(received)
line1=$(wc -l <"$home/pilot.log")
sqlite3 "$db" <"$home/insert.sql"
t0=$(now_ns)
# Wake the pilot: a submit is a change it sees.
load_ns=$(run_task loaded)
wait_for 1200 received_at_least $((before + mails + 1))
drain_ns=$(($(now_ns) - t0))
load_cycles=$(cycles_from "$line1")

awk -v n="$mails" -v ns="$drain_ns" 'BEGIN {
	printf "backlog: %d mails drained in %.1f s = %.0f mails/s\n",
	    n, ns / 1e9, n / (ns / 1e9) }'
for set in base load; do
	if [ $set = base ]; then
		c=$base_cycles t=$base_ns label="no mail waiting"
	else
		c=$load_cycles t=$load_ns label="mails waiting  "
	fi
	printf '%s\n' "$c" | sort -n | awk -v label="$label" -v t="$t" -v j="$jobs" \
	    -v s="$slots" '
		{ v[++n] = $1; tot += $1 }
		END { printf "%s: task of %d jobs through %d slots done in " \
		    "%.2f s; %d cycles: mean %.1f ms, median %.1f ms, 90th " \
		    "percentile %.1f ms, longest %.1f ms\n", label, j, s,
		    t / 1e9, n, tot / n, v[int((n + 1) / 2)],
		    v[int(n * 0.9 + 0.5)], v[n] }'
done

# End mails: cycles between the end and its mail; end to received.
cyc=() lat=()
for i in $(seq 1 "$runs"); do
	n0=$(received)
	line=$(wc -l <"$home/pilot.log")
	"$bin" task submit "one-$i" --skip-test --exec 'true' >/dev/null
	wait_for 60 received_at_least $((n0 + 1))
	last=$(ls "$home/mail" | grep '\.eml$' | sort | tail -n 1)
	t_recv=$(python3 -c 'import os, sys
print(os.stat(sys.argv[1]).st_mtime_ns // 1000000)' "$home/mail/$last")
	ended=$(q "SELECT max(j.ended_ms) FROM job j JOIN task t ON t.id = j.task_id
		WHERE t.name = 'one-$i'")
	lat+=($((t_recv - ended)))
	# The cycle that recorded the task's end (its line " -> done " comes
	# while it runs, its own line "cycle: … took" at its end), and how
	# many whole cycles the pilot ran after it before the mail was sent
	# (the mail thread's line "mail N sent"): 0 = none.
	cyc+=($(tail -n +"$((line + 1))" "$home/pilot.log" | awk -v name="user.bench.one-$i done" '
		/ -> done / && !e { e = 1; ce = c + 1 }
		index($0, name) && / mail [0-9]+ sent / { s = c }
		/ cycle: .* took / { c++ }
		END { if (!e || s == "") print "unknown"
		      else print (s > ce ? s - ce : 0) }'))
done
case " ${cyc[*]} " in
*" unknown "*)
	echo "bench: a task's end or its mail is missing from the log" >&2
	exit 1 ;;
esac
printf '%s\n' "${cyc[@]}" | sort -n | awk -v n="$runs" '
	{ v[NR] = $1; k[$1]++ } END { printf "end mail: sent after 0 to %d " \
	    "whole cycles past the cycle that recorded the end (%d runs:", v[n], n
	    for (i = 0; i <= v[n]; i++) printf "%s %d after %d", i ? "," : "", k[i], i
	    printf ")\n" }'
printf '%s\n' "${lat[@]}" | sort -n | awk -v n="$runs" '
	{ v[NR] = $1 } END { printf "end mail: job end to mail received: " \
	    "min %d ms, median %d ms, max %d ms\n", v[1], v[int((n + 1) / 2)], v[n] }'
