#!/usr/bin/env bash
# bench-pilot.sh - the pilot's figures of issue 18, with the release build
# and the local backend on a real SQLite file, each beside task-spooler
# (Debian's task-spooler, `tsp`) and a bare `xargs -P` launcher measured
# in the same run, so that a figure is a ratio, not an absolute time from
# a noisy machine:
#
#   throughput  --jobs (1,000) trivial jobs (`sh -c 'true /in/NNNN'`;
#               Orchestra's test job skipped) through --slots (32) slots,
#               from just before the submit to the last job's end: for
#               Orchestra the time its end was recorded in the database
#               (the job's event), for task-spooler `tsp -w` on every job
#               (TS_SLOTS, a server, socket and TMPDIR of its own), for
#               xargs its exit.  --rounds (3) rounds, the three in turn
#               (their order rotated each round), medians; targets:
#               >= 1.2x task-spooler's rate, >= 60% of xargs's;
#   latency     one job on an idle system, from just before the submit to
#               the job's first instruction (`date +%s%N` into a file),
#               median of --runs (20), Orchestra (pilot period 30 s, so
#               only a wake-up can start it) and task-spooler in turn;
#               target <= 10 ms;
#   cycle       the first pilot cycle after --queued (100,000) jobs were
#               submitted (`pilot --once --verbose`, the cycle's own
#               "took"), on a database of their own; target <= 200 ms.
#               --queued 0 skips it.
#
#   bench/bench-pilot.sh [--jobs N] [--slots S] [--rounds R] [--runs R]
#                        [--queued N] [--bin PATH] [--db URL] [--keep]
#
# --db runs Orchestra on that database (an empty PostgreSQL database, say)
# instead of a fresh SQLite file.  The script installs task-spooler if it
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=1000 slots=32 rounds=3 runs=20 queued=100000 bin= dburl= keep=
while [ $# -gt 0 ]; do
	case $1 in
	--jobs) jobs=$2; shift 2 ;;
	--slots) slots=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--queued) queued=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--db) dburl=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--jobs N] [--slots S] [--rounds R] [--runs R] [--queued N] [--bin PATH] [--db URL] [--keep]" >&2
	   exit 2 ;;
	esac
done
if ! command -v tsp >/dev/null; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y task-spooler >/dev/null
fi
if [ -z "$bin" ]; then
	cmake --preset release >/dev/null
	cmake --build --preset release -j 2 >/dev/null
	bin=$PWD/build/release/orchestra
fi

home=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-bench-pilot-XXXXXX")
pilot=
export TS_SOCKET=$home/ts/socket
cleanup() {
	[ -n "$pilot" ] && kill "$pilot" 2>/dev/null && wait "$pilot" 2>/dev/null
	TMPDIR=$home/ts tsp -K 2>/dev/null || true
	if [ -n "$keep" ]; then
		echo "kept: $home" >&2
	else
		rm -rf "$home"
	fi
}
trap cleanup EXIT
export ORCHESTRA_HOME=$home/o ORCHESTRA_CONF=/dev/null ORCHESTRA_USER=bench
mkdir -p "$home/o" "$home/ts"
db=$home/o/orchestra.db
if [ -n "$dburl" ]; then
	export ORCHESTRA_DB=$dburl
	q() { psql -X -q -A -t "$dburl" -c "$1"; }
else
	q() { sqlite3 "$db" "$1"; }
fi
node=$("$bin" init --json | sed -n 's/.*"node": "\(.*\)".*/\1/p')
"$bin" node set "$node" --max-cpu-slots "$slots" --cpu-slots "$slots" >/dev/null

now_ns() { date +%s%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$bin" pilot --interval 30 --verbose 2>"$home/pilot.log" &
pilot=$!
# Idle: no job holds a slot, nothing waits.
idle() {
	local deadline=$((SECONDS + 600))
	until [ "$(q "SELECT count(*) FROM job WHERE status IN
		('registered','assigned','pending','running','kill')")" = 0 ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: jobs left" >&2; exit 1; }
		sleep 0.05
	done
}

# ---- throughput ---------------------------------------------------------

seq -f "/in/%04g" 1 "$jobs" >"$home/list"
# Each prints the seconds from the submit to the last end.
run_orchestra() {
	local name=burst-$1 t0 last n
	idle
	sleep 0.2
	t0=$(now_ns)
	"$bin" task submit "$name" --skip-test --inputs "@$home/list" \
		--exec 'true %IN' >/dev/null
	local deadline=$((SECONDS + 600))
	until [ "$(q "SELECT status FROM task WHERE name = '$name'")" = done ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: $name not done" >&2; exit 1; }
		sleep 0.05
	done
	read -r last n < <(q "SELECT max(e.time_ms), count(*) FROM event e
		JOIN task t ON t.id = e.task_id
		WHERE t.name = '$name' AND e.kind = 'job'
		AND e.new_status = 'done'" | tr '|' ' ')
	[ "$n" = "$jobs" ] || { echo "bench: $name: $n ends recorded, not $jobs" >&2; exit 1; }
	awk -v t0="$t0" -v t1="$last" 'BEGIN { printf "%.4f\n", (t1 * 1e6 - t0) / 1e9 }'
}
run_tsp() {
	local t0 t1 id last left
	export TMPDIR=$home/ts/out-$1 TS_SOCKET=$home/ts/socket-$1 TS_SLOTS=$slots
	mkdir -p "$TMPDIR"
	tsp -S "$slots" # starts the server before the clock
	t0=$(now_ns)
	while read -r in; do
		last=$(tsp sh -c "true $in")
	done <"$home/list"
	tsp -w "$last" >/dev/null 2>&1 || true
	# FIFO through the slots: the ones before the last may still run.
	while :; do
		left=$(tsp -l | awk 'NR > 1 && $2 != "finished" { print $1 }')
		[ -n "$left" ] || break
		for id in $left; do tsp -w "$id" >/dev/null 2>&1 || true; done
	done
	t1=$(now_ns)
	[ "$(tsp -l | awk 'NR > 1 && $2 == "finished" && $4 == 0' | wc -l)" = "$jobs" ] ||
		{ echo "bench: task-spooler did not run $jobs jobs" >&2; exit 1; }
	tsp -K
	unset TS_SLOTS
	export TMPDIR=$home
	awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f\n", ns / 1e9 }'
}
run_xargs() {
	local t0 t1
	t0=$(now_ns)
	xargs -P "$slots" -I{} sh -c 'true {}' <"$home/list"
	t1=$(now_ns)
	awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f\n", ns / 1e9 }'
}

systems=(orchestra tsp xargs)
for r in $(seq 1 "$rounds"); do
	line="round $r:"
	for k in 0 1 2; do
		s=${systems[$(((k + r - 1) % 3))]}
		t=$("run_$s" "$r")
		echo "$t" >>"$home/tp-$s"
		line="$line $s $(awk -v n="$jobs" -v t="$t" 'BEGIN { printf "%.0f", n / t }')/s"
	done
	echo "$line"
done
to=$(median <"$home/tp-orchestra")
tt=$(median <"$home/tp-tsp")
tx=$(median <"$home/tp-xargs")

# ---- latency ------------------------------------------------------------

export TMPDIR=$home/ts/out-lat TS_SOCKET=$home/ts/socket-lat TS_SLOTS=$slots
mkdir -p "$TMPDIR"
tsp -S "$slots"
for i in $(seq 1 "$runs"); do
	# Orchestra, its pilot idle in its 30 s wait.
	idle
	sleep 0.2
	t0=$(now_ns)
	"$bin" task submit "one-$i" --skip-test \
		--exec "date +%s%%N > $home/o-start-$i" >/dev/null
	deadline=$((SECONDS + 60))
	until [ -s "$home/o-start-$i" ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: no start" >&2; exit 1; }
		sleep 0.01
	done
	echo $((($(cat "$home/o-start-$i") - t0) / 1000)) >>"$home/lat-orchestra"
	# task-spooler, its server idle.
	sleep 0.2
	t0=$(now_ns)
	id=$(tsp sh -c "date +%s%N > $home/t-start-$i")
	tsp -w "$id" >/dev/null 2>&1 || true
	echo $((($(cat "$home/t-start-$i") - t0) / 1000)) >>"$home/lat-tsp"
done
tsp -K
unset TS_SLOTS
export TMPDIR=$home
lo=$(median <"$home/lat-orchestra")
lt=$(median <"$home/lat-tsp")
lat_range() { sort -g "$1" | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.1f-%.1f", a / 1000, b / 1000 }'; }

# ---- the first cycle after --queued jobs were queued ----------------------

kill "$pilot" 2>/dev/null && wait "$pilot" 2>/dev/null || true
pilot=
took=
if [ "$queued" -gt 0 ]; then
	idle
	export ORCHESTRA_HOME=$home/q
	unset ORCHESTRA_DB
	mkdir -p "$ORCHESTRA_HOME"
	node=$("$bin" init --json | sed -n 's/.*"node": "\(.*\)".*/\1/p')
	"$bin" node set "$node" --max-cpu-slots "$slots" --cpu-slots "$slots" >/dev/null
	seq -f "/in/%06g" 1 "$queued" >"$home/qlist"
	"$bin" task submit big --skip-test --inputs "@$home/qlist" \
		--exec 'true %IN' >/dev/null
	"$bin" pilot --once --verbose 2>"$home/once.log"
	took=$(sed -n 's/.*cycle:.* took \([0-9.]*\) ms.*/\1/p' "$home/once.log" | head -1)
	launched=$(sed -n 's/.*cycle: \([0-9]*\) launched.*/\1/p' "$home/once.log" | head -1)
	# Let the launched jobs end, so the directory can go.
	"$bin" pilot --once >/dev/null 2>&1 || true
fi

# ---- the table ----------------------------------------------------------

awk -v n="$jobs" -v s="$slots" -v r="$rounds" -v to="$to" -v tt="$tt" \
    -v tx="$tx" -v lo="$lo" -v lt="$lt" -v runs="$runs" \
    -v lor="$(lat_range "$home/lat-orchestra")" \
    -v ltr="$(lat_range "$home/lat-tsp")" \
    -v took="$took" -v queued="$queued" -v launched="${launched:-0}" 'BEGIN {
	ro = n / to; rt = n / tt; rx = n / tx
	print  ""
	printf "| figure | measured | target |\n| --- | --- | --- |\n"
	printf "| %d jobs through %d slots, median of %d rounds | Orchestra %.0f jobs/s, task-spooler %.0f jobs/s, xargs -P %d %.0f jobs/s | |\n",
	    n, s, r, ro, rt, s, rx
	printf "| Orchestra against task-spooler | %.2fx | >= 1.2x |\n", ro / rt
	printf "| Orchestra against xargs -P %d | %.0f%% | >= 60%% |\n", s, 100 * ro / rx
	printf "| one job on an idle system, submit to first instruction, median of %d | Orchestra %.1f ms (%s), task-spooler %.1f ms (%s) | <= 10 ms |\n",
	    runs, lo / 1000, lor, lt / 1000, ltr
	if (queued > 0)
		printf "| the first cycle after %d jobs were queued (it launched %d) | %s ms | <= 200 ms |\n",
		    queued, launched, took
}'
