#!/usr/bin/env bash
# bench-pilot.sh - the pilot's figures of issue 3, with the release build
# and the local backend on a real SQLite file:
#
#   throughput  N trivial jobs (`true`, test job skipped) through S slots:
#               jobs completed per second, from the submit to the task
#               being done (target >= 300/s for 1,000 jobs, 32 slots);
#   latency     submit-to-start of one job on an idle pilot whose period
#               is 30 s: from just before `orchestra task submit` to the
#               job's own first instruction (target <= 100 ms, median of
#               20).
#
#   bench/bench-pilot.sh [--jobs N] [--slots S] [--runs R] [--bin PATH]
#                        [--db URL]
#
# --db runs on that database (e.g. an empty PostgreSQL database) instead
# of a fresh SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=1000 slots=32 runs=20 bin= dburl=
while [ $# -gt 0 ]; do
	case $1 in
	--jobs) jobs=$2; shift 2 ;;
	--slots) slots=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--db) dburl=$2; shift 2 ;;
	*) echo "usage: $0 [--jobs N] [--slots S] [--runs R] [--bin PATH] [--db URL]" >&2
	   exit 2 ;;
	esac
done
if [ -z "$bin" ]; then
	cmake --preset release >/dev/null
	cmake --build --preset release -j "$(nproc)" >/dev/null
	bin=$PWD/build/release/orchestra
fi

home=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-bench-pilot-XXXXXX")
pilot=
cleanup() {
	[ -n "$pilot" ] && kill "$pilot" 2>/dev/null && wait "$pilot" 2>/dev/null
	rm -rf "$home"
}
trap cleanup EXIT
export ORCHESTRA_HOME=$home ORCHESTRA_CONF=/dev/null ORCHESTRA_USER=bench
db=$home/orchestra.db
if [ -n "$dburl" ]; then
	export ORCHESTRA_DB=$dburl
	q() { psql -X -q -A -t "$dburl" -c "$1"; }
else
	q() { sqlite3 "$db" "$1"; }
fi
node=$("$bin" init --json | sed -n 's/.*"node": "\(.*\)".*/\1/p')
"$bin" node set "$node" --max-cpu-slots "$slots" --cpu-slots "$slots" >/dev/null

now_ns() { date +%s%N; }
status() { q "SELECT status FROM task WHERE name = '$1'"; }

"$bin" pilot --interval 30 2>"$home/pilot.log" &
pilot=$!

# Throughput.
seq -f "/in/%04g" 1 "$jobs" >"$home/list"
t0=$(now_ns)
"$bin" task submit burst --skip-test --inputs "@$home/list" \
	--exec 'true %IN' >/dev/null
deadline=$((SECONDS + 600))
until [ "$(status burst)" = done ]; do
	[ $SECONDS -lt $deadline ] || { echo "bench: task not done" >&2; exit 1; }
	sleep 0.02
done
t1=$(now_ns)
read -r span < <(q "SELECT max(j.ended_ms) - min(j.started_ms)
	FROM job j JOIN task t ON t.id = j.task_id WHERE t.name = 'burst'")
awk -v n="$jobs" -v s="$slots" -v ns=$((t1 - t0)) -v span="$span" 'BEGIN {
	printf "throughput: %d jobs through %d slots in %.2f s = %.0f jobs/s " \
	    "(first start to last end %.2f s = %.0f jobs/s; target >= 300)\n",
	    n, s, ns / 1e9, n / (ns / 1e9), span / 1000, n / (span / 1000) }'

# Latency: one job at a time on an idle pilot (period 30 s).
lat=()
for i in $(seq 1 "$runs"); do
	# let the pilot settle into its wait
	until [ "$(q "SELECT count(*) FROM job WHERE status IN
		('assigned','pending','running')")" = 0 ]; do sleep 0.02; done
	sleep 0.2
	t0=$(now_ns)
	"$bin" task submit "one-$i" --skip-test \
		--exec "date +%s%%N > $home/start-$i" >/dev/null
	deadline=$((SECONDS + 60))
	until [ -s "$home/start-$i" ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: no start" >&2; exit 1; }
		sleep 0.01
	done
	lat+=($(( ($(cat "$home/start-$i") - t0) / 1000 )))
done
printf '%s\n' "${lat[@]}" | sort -n | awk -v n="$runs" '
	{ v[NR] = $1 }
	END { printf "latency: submit to start, %d runs: min %.1f ms, median " \
	    "%.1f ms, max %.1f ms (period 30 s; target <= 100 ms)\n",
	    n, v[1] / 1000, v[int((n + 1) / 2)] / 1000, v[n] / 1000 }'
