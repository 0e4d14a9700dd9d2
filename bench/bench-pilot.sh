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
#               xargs its exit.  --rounds (3) rounds, the systems in turn
#               (their order rotated each round), medians; targets:
#               >= 1.2x task-spooler's rate, >= 60% of xargs's;
#   latency     one job on an idle system, from just before the submit to
#               the job's first instruction (`date +%s%N` into a file),
#               median of --runs (20), Orchestra (pilot period 30 s, so
#               only a wake-up can start it, and one job run to its end
#               before: an idle pilot has run before) and task-spooler in
#               turn;
#               target <= 10 ms (<= 20 ms with --db on PostgreSQL);
#               with --serve, each Orchestra's runs alternate with runs
#               whose submit goes through `orchestra serve` (its own
#               process, its database connection kept: ORCHESTRA_URL and
#               a token, the path of a shared PostgreSQL's users, who are
#               not given the database), a row of its own;
#   cycle       on a database of its own, --queued (100,000) jobs
#               submitted (one task, --skip-test) to a running pilot
#               (--verbose, period 30 s) that idles: the cycles that
#               queue them (registered to assigned, one event each; a chunk of
#               TASK_QUEUE_CHUNK a cycle, all at once before issue 18's
#               chunks), and the next one (each cycle's own "took"): the
#               longest cycle while they are queued, how many cycles and
#               ms (their sum: they run back to back) until all are, the
#               median and 99th percentile of those cycles (the longest is
#               one cycle of a hundred or more, and moves from run to run
#               on a loaded machine), and the next; target <= 200 ms a
#               cycle.  --queued 0 skips it.
#   retry       the same for a finalized task's retry: on a database of
#               its own, --queued jobs in one task, made failed and the
#               task finalized with SQL (as if they had run and failed),
#               a running pilot (period 30 s) that idles, then `task
#               retry`: the cycles that queue the failed jobs again
#               (failed to assigned, one event each; in chunks since
#               issue 18's retry chunks, all at once before), the same
#               figures; target <= 200 ms a cycle.
#
#   bench/bench-pilot.sh [--jobs N] [--slots S] [--rounds R] [--runs R]
#                        [--queued N] [--bin PATH] [--before PATH]
#                        [--db URL] [--before-db URL] [--phases LIST]
#                        [--serve] [--keep]
#
# --phases takes a comma-separated list of throughput, latency, cycle and
# retry (default: all four); `--phases cycle,retry` measures only the
# cycles.
#
# --before PATH measures a second Orchestra binary (say, the build of the
# main branch; its orchestra-launch beside it, as for --bin: the bench
# refuses a binary without) in the same run, alternating with the others, so that
# before and after are figures of one run.  Each Orchestra has its own
# ORCHESTRA_HOME and SQLite file, and its pilot runs only during its own
# rounds and runs.  --db runs the first Orchestra on that database (an
# empty PostgreSQL database, say) instead of a fresh SQLite file, and
# --before-db the second (another empty database) likewise.  The script
# installs task-spooler if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=1000 slots=32 rounds=3 runs=20 queued=100000 bin= before= dburl= keep=
serve=
beforedb=
phases=throughput,latency,cycle,retry
while [ $# -gt 0 ]; do
	case $1 in
	--jobs) jobs=$2; shift 2 ;;
	--slots) slots=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--queued) queued=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--before) before=$2; shift 2 ;;
	--db) dburl=$2; shift 2 ;;
	--before-db) beforedb=$2; shift 2 ;;
	--phases) phases=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--serve) serve=1; shift ;;
	*) echo "usage: $0 [--jobs N] [--slots S] [--rounds R] [--runs R] [--queued N] [--bin PATH] [--before PATH] [--db URL] [--before-db URL] [--phases LIST] [--serve] [--keep]" >&2
	   exit 2 ;;
	esac
done
phase() { case ",$phases," in *",$1,"*) return 0 ;; esac; return 1; }
for p in ${phases//,/ }; do
	case $p in
	throughput|latency|cycle|retry) ;;
	*) echo "bench: unknown phase '$p' (throughput, latency, cycle, retry)" >&2; exit 2 ;;
	esac
done
phase cycle || phase retry || queued=0
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
# A pilot whose orchestra-launch is not beside it forks each supervisor
# itself, a fork of the whole pilot a job: a binary copied alone
# elsewhere (to keep a build to compare with) would measure that.
for b in "$bin" $before; do
	[ -x "$(dirname "$b")/orchestra-launch" ] || {
		echo "bench: no orchestra-launch beside $b (copy it with the binary)" >&2
		exit 2
	}
done

home=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-bench-pilot-XXXXXX")
pilot='' server=''
declare -A obin odb
# The cgroups of each Orchestra's pool outlive a pilot killed, and any
# pilot of a build older than local_pool_remove_free (cgroup_pool_remove).
. scripts/cgroup-lib.sh
cleanup() {
	[ -n "$pilot" ] && kill "$pilot" 2>/dev/null && wait "$pilot" 2>/dev/null
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	for s in "$home"/ts/socket-*; do
		[ -e "$s" ] && TS_SOCKET=$s tsp -K 2>/dev/null
	done
	for o in "${!obin[@]}"; do
		cgroup_pool_remove "$home/$o" \
		    "$(cgroup_dir_logged "$home/$o/pilot.log")" || true
		# The cycles' homes, each with its log beside it (cycles_o).
		for q in "$home/q-$o" "$home/q-$o-retry"; do
			cgroup_pool_remove "$q" \
			    "$(cgroup_dir_logged "$q.log")" || true
		done
	done
	if [ -n "$keep" ]; then
		echo "kept: $home" >&2
	else
		rm -rf "$home"
	fi
}
trap cleanup EXIT
export ORCHESTRA_CONF=/dev/null ORCHESTRA_USER=bench
mkdir -p "$home/ts"

# The Orchestras: "orchestra" is --bin, "before" is --before.
obin[orchestra]=$bin
odb[orchestra]=${dburl:-}
[ -z "$before" ] || obin[before]=$before
odb[before]=${beforedb:-}
oset() { # NAME: its environment
	export ORCHESTRA_HOME=$home/$1
	if [ -n "${odb[$1]:-}" ]; then
		export ORCHESTRA_DB=${odb[$1]}
	else
		unset ORCHESTRA_DB
	fi
}
q() { # NAME SQL
	if [ -n "${odb[$1]:-}" ]; then
		psql -X -q -A -t "${odb[$1]}" -c "$2"
	else
		sqlite3 "$home/$1/orchestra.db" "$2"
	fi
}
for o in "${!obin[@]}"; do
	mkdir -p "$home/$o"
	oset "$o"
	node=$("${obin[$o]}" init --json | sed -n 's/.*"node": "\(.*\)".*/\1/p')
	"${obin[$o]}" node set "$node" --max-cpu-slots "$slots" \
		--cpu-slots "$slots" >/dev/null
done

now_ns() { date +%s%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Start NAME's pilot (period 30 s) and wait until it idles.
pilot_up() {
	local log=$home/$1/pilot.log deadline=$((SECONDS + 60))
	oset "$1"
	: >"$log"
	"${obin[$1]}" pilot --interval 30 --verbose >/dev/null 2>"$log" &
	pilot=$!
	until grep -q 'cycle:' "$log"; do
		[ $SECONDS -lt $deadline ] || { echo "bench: $1's pilot did not start" >&2; exit 1; }
		sleep 0.05
	done
	sleep 0.2
}
pilot_down() {
	kill "$pilot" && wait "$pilot" || true
	pilot=
}

# ---- throughput ---------------------------------------------------------

seq -f "/in/%04g" 1 "$jobs" >"$home/list"
# Each prints the seconds from the submit to the last end.
run_o() { # NAME ROUND
	local name=burst-$2 t0 last n deadline=$((SECONDS + 600))
	pilot_up "$1"
	t0=$(now_ns)
	"${obin[$1]}" task submit "$name" --skip-test --inputs "@$home/list" \
		--exec 'true %IN' >/dev/null
	# The end is the database's time, not this loop's: look seldom, so
	# that its sqlite3 processes take little of the processors.
	until [ "$(q "$1" "SELECT status FROM task WHERE name = '$name'")" = done ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: $name not done" >&2; exit 1; }
		sleep 0.25
	done
	read -r last n < <(q "$1" "SELECT max(e.time_ms), count(*) FROM event e
		JOIN task t ON t.id = e.task_id
		WHERE t.name = '$name' AND e.kind = 'job'
		AND e.new_status = 'done'" | tr '|' ' ')
	[ "$n" = "$jobs" ] || { echo "bench: $name: $n ends recorded, not $jobs" >&2; exit 1; }
	pilot_down
	awk -v t0="$t0" -v t1="$last" 'BEGIN { printf "%.4f\n", (t1 * 1e6 - t0) / 1e9 }'
}
run_orchestra() { run_o orchestra "$1"; }
run_before() { run_o before "$1"; }
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

systems=(orchestra)
[ -z "$before" ] || systems+=(before)
systems+=(tsp xargs)
ns=${#systems[@]}
phase throughput || rounds=0
for r in $(seq 1 "$rounds"); do
	line="round $r:"
	for k in $(seq 0 $((ns - 1))); do
		s=${systems[$(((k + r - 1) % ns))]}
		t=$("run_$s" "$r")
		echo "$t" >>"$home/tp-$s"
		line="$line $s $(awk -v n="$jobs" -v t="$t" 'BEGIN { printf "%.0f", n / t }')/s"
	done
	echo "$line"
done

# ---- latency ------------------------------------------------------------

# NAME's `orchestra serve` on a port of its own, and a token of the
# bench's user for it: api and token.
api='' token=''
serve_up() {
	local log=$home/$1/serve.log deadline=$((SECONDS + 60)) port=''
	: >"$log"
	"${obin[$1]}" serve --listen 127.0.0.1:0 2>"$log" &
	server=$!
	until [ -n "$port" ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: $1's serve did not start" >&2; exit 1; }
		sleep 0.05
		port=$(sed -n 's/.*listening address=[^ ]*:\([0-9]*\).*/\1/p' "$log" | head -n 1)
	done
	api=http://127.0.0.1:$port
	token=$("${obin[$1]}" user token bench 2>/dev/null)
}
serve_down() {
	kill "$server" && wait "$server" || true
	server=
}
lat_o() { # NAME RUN [serve]
	local f=$home/$1/start-$2${3:+-$3} t0 deadline=$((SECONDS + 60))
	pilot_up "$1"
	# The commands below, not the pilot, talk to serve.
	if [ -n "${3:-}" ]; then
		serve_up "$1"
		export ORCHESTRA_URL=$api ORCHESTRA_TOKEN=$token
	fi
	# A pilot idle after work, not one just started (its statements
	# prepared, its pages cached): one job first.
	"${obin[$1]}" task submit "warm-$2${3:+-$3}" --skip-test --exec true \
		>/dev/null
	until [ "$(q "$1" "SELECT status FROM task WHERE name = 'warm-$2${3:+-$3}'")" = done ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: warm-$2 not done" >&2; exit 1; }
		sleep 0.05
	done
	sleep 0.2
	t0=$(now_ns)
	"${obin[$1]}" task submit "one-$2${3:+-$3}" --skip-test \
		--exec "date +%s%%N > $f" >/dev/null
	until [ -s "$f" ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: no start" >&2; exit 1; }
		sleep 0.01
	done
	echo $((($(cat "$f") - t0) / 1000)) >>"$home/lat-$1${3:+-$3}"
	unset ORCHESTRA_URL ORCHESTRA_TOKEN
	[ -z "${3:-}" ] || serve_down
	pilot_down
}
export TMPDIR=$home/ts/out-lat TS_SOCKET=$home/ts/socket-lat TS_SLOTS=$slots
mkdir -p "$TMPDIR"
phase latency || runs=0
[ "$runs" = 0 ] || tsp -S "$slots"
for i in $(seq 1 "$runs"); do
	lat_o orchestra "$i"
	[ -z "$serve" ] || lat_o orchestra "$i" serve
	[ -z "$before" ] || lat_o before "$i"
	[ -z "$before" ] || [ -z "$serve" ] || lat_o before "$i" serve
	# task-spooler, its server idle.
	sleep 0.2
	t0=$(now_ns)
	id=$(tsp sh -c "date +%s%N > $home/ts/start-$i")
	tsp -w "$id" >/dev/null 2>&1 || true
	echo $((($(cat "$home/ts/start-$i") - t0) / 1000)) >>"$home/lat-tsp"
done
[ "$runs" = 0 ] || tsp -K
unset TS_SLOTS
export TMPDIR=$home
lat_range() { sort -g "$1" | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.1f-%.1f", a / 1000, b / 1000 }'; }

# ---- the cycles after --queued jobs were submitted -------------------------

# The cycles of a pilot's --verbose log $1 after its first (idle) one:
# "longest-ms ncycles total-ms next-ms" once the cycles that queue jobs (a
# task's "registered -> running" or "next jobs queued", a retry's
# "finalized -> running" or "next failed jobs queued again", before the
# cycle's line) are followed by one that queues none; nothing before.
# Each of those cycles' times goes to $1.times, a line each.
cycles_read() {
	awk -v times="$1.times" '
		/cycle:.* took / {
			t = $0; sub(/.* took /, "", t); sub(/ ms.*/, "", t)
			if (!idle) { idle = 1; q = 0; next }
			if (q) {
				n++; sum += t; if (t + 0 > max + 0) max = t
				print t > times
			}
			else if (n > 0) { printf "%s %d %.1f %s\n", max, n, sum, t; exit }
			q = 0; next
		}
		idle && /task [0-9]+: (registered -> running|finalized -> running|running -> running \(next (failed )?jobs queued( again)?\))/ { q = 1 }
	' "$1"
}
# The 99th percentile (nearest rank) of the numbers on standard input.
p99() {
	sort -g | awk '{ v[NR] = $1 } END {
		r = int(NR * 0.99); if (r < NR * 0.99) r++; print v[r] }'
}
# NAME [retry]: "longest-ms ncycles total-ms next-ms median-ms p99-ms", of
# a running pilot
# (period 30 s), idle when the jobs are submitted: the cycles that queue
# them, back to back, then the next.  On its --db database, else a new
# SQLite file.  With retry (always a new SQLite file), the jobs are
# submitted before the pilot starts, made failed and their task finalized
# (with SQL, as the pilot records an end: status, attempt, exit code,
# times), and the pilot is idle when the task is retried.
cycles_o() {
	local b=${obin[$1]} tag=$1${2:+-$2}${3:+-$3} r='' deadline node log
	log=$home/q-$tag.log
	# A retry, and a run not counted, on an SQLite file of their own.
	if [ -n "${2:-}${3:-}" ]; then unset ORCHESTRA_DB; else oset "$1"; fi
	export ORCHESTRA_HOME=$home/q-$tag
	mkdir -p "$ORCHESTRA_HOME"
	node=$("$b" init --json | sed -n 's/.*"node": "\(.*\)".*/\1/p')
	"$b" node set "$node" --max-cpu-slots "$slots" --cpu-slots "$slots" >/dev/null
	if [ -n "${2:-}" ]; then
		"$b" task submit big --skip-test --inputs "@$home/qlist" \
			--exec 'true %IN' >/dev/null 2>&1
		sqlite3 "$ORCHESTRA_HOME/orchestra.db" "
			UPDATE job SET status = 'failed', attempts = 1,
			    handle = CAST(id AS TEXT) || '-1', exit_code = 1,
			    end_reason = 'exit', queued_ms = submitted_ms,
			    started_ms = submitted_ms, ended_ms = submitted_ms;
			UPDATE task SET status = 'finalized', dirty = 0,
			    ended_ms = updated_ms;"
	fi
	"$b" pilot --interval 30 --verbose >/dev/null 2>"$log" &
	pilot=$!
	deadline=$((SECONDS + 60))
	until grep -q 'cycle:' "$log"; do
		[ $SECONDS -lt $deadline ] || { echo "bench: $1's pilot did not start" >&2; exit 1; }
		sleep 0.05
	done
	if [ -n "${2:-}" ]; then
		"$b" task retry big >/dev/null 2>&1
	else
		"$b" task submit big --skip-test --inputs "@$home/qlist" \
			--exec 'true %IN' >/dev/null 2>&1
	fi
	deadline=$((SECONDS + 300))
	while [ -z "$r" ]; do
		[ $SECONDS -lt $deadline ] || { echo "bench: $1: still queueing" >&2; exit 1; }
		sleep 0.2
		r=$(cycles_read "$log")
	done
	pilot_down
	# Let the launched jobs end, so that the directory can go.
	"$b" pilot --once >/dev/null 2>&1 || true
	echo "$r $(median <"$log.times") $(p99 <"$log.times")"
}
if [ "$queued" -gt 0 ]; then
	seq -f "/in/%06g" 1 "$queued" >"$home/qlist"
fi
# The first of these runs is the slowest, whichever binary makes it (its
# longest cycle, in 4 comparison runs of two builds, the two orders each
# twice): with --before, a run of the second binary goes first, not
# counted, so that neither is measured first.
warm=
if [ "$queued" -gt 0 ] && phase cycle; then
	[ -z "$before" ] || { cycles_o before '' warm >/dev/null; warm=1; }
	read -r qa qn qs qc qm qp < <(cycles_o orchestra)
	[ -z "$before" ] || read -r qba qbn qbs qbc qbm qbp < <(cycles_o before)
fi
if [ "$queued" -gt 0 ] && phase retry; then
	[ -z "$before" ] || [ -n "$warm" ] || cycles_o before retry warm >/dev/null
	read -r ra rn rs rc rm rp < <(cycles_o orchestra retry)
	[ -z "$before" ] || read -r rba rbn rbs rbc rbm rbp < <(cycles_o before retry)
fi

# ---- the table ----------------------------------------------------------

row() { # NAME LABEL: the rows of the phases that ran
	local to='' lo='' target=10
	phase throughput && to=$(median <"$home/tp-$1")
	phase latency && lo=$(median <"$home/lat-$1")
	# The issue's latency target: 10 ms on SQLite, 20 on PostgreSQL.
	case ${odb[$1]:-} in
	postgres*) target=20 ;;
	esac
	awk -v l="$2" -v n="$jobs" -v to="$to" -v tt="$tt" -v tx="$tx" \
	    -v lo="$lo" -v lt="$lt" -v runs="$runs" -v target="$target" \
	    -v lr="$(phase latency && lat_range "$home/lat-$1")" 'BEGIN {
		if (to != "") {
			printf "| %s: %d jobs through the slots | %.0f jobs/s | |\n", l, n, n / to
			printf "| %s against task-spooler | %.2fx | >= 1.2x |\n", l, tt / to
			printf "| %s against xargs -P | %.0f%% | >= 60%% |\n", l, 100 * tx / to
		}
		if (lo != "")
			printf "| %s: one job on an idle system, submit to first instruction, median of %d | %.1f ms (%s; %.2fx task-spooler'"'"'s) | <= %d ms |\n",
			    l, runs, lo / 1000, lr, lo / lt, target
	}'
	if phase latency && [ -n "$serve" ]; then
		awk -v l="$2" -v runs="$runs" -v target="$target" -v lt="$lt" \
		    -v lo="$(median <"$home/lat-$1-serve")" \
		    -v lr="$(lat_range "$home/lat-$1-serve")" 'BEGIN {
			printf "| %s: the same, submitted through `orchestra serve` | %.1f ms (%s; %.2fx task-spooler'"'"'s) | <= %d ms |\n",
			    l, lo / 1000, lr, lo / lt, target
		}'
	fi
}
echo
echo "| figure | measured | target |"
echo "| --- | --- | --- |"
tt='' tx='' lt=''
if phase throughput; then
	tt=$(median <"$home/tp-tsp")
	tx=$(median <"$home/tp-xargs")
	awk -v n="$jobs" -v s="$slots" -v r="$rounds" -v tt="$tt" -v tx="$tx" 'BEGIN {
		printf "| %d jobs through %d slots, median of %d rounds: task-spooler, xargs -P %d | %.0f jobs/s, %.0f jobs/s | |\n",
		    n, s, r, s, n / tt, n / tx
	}'
fi
if phase latency; then
	# The one-job targets are times; each is also given as a ratio to
	# task-spooler's one job of the same run, the machine's own pace.
	lt=$(median <"$home/lat-tsp")
	awk -v lt="$lt" -v ltr="$(lat_range "$home/lat-tsp")" \
	    -v runs="$runs" 'BEGIN {
		printf "| task-spooler: one job on an idle system, median of %d | %.1f ms (%s) | |\n",
		    runs, lt / 1000, ltr
	}'
fi
if phase throughput || phase latency; then
	row orchestra "Orchestra"
	[ -z "$before" ] || row before "before"
fi
# LABEL WHILE AGAIN LONGEST N SUM NEXT MEDIAN P99: the rows of cycles_o's
# figures.
cycle_rows() {
	printf '| %s: the longest cycle while %s | %s ms | <= 200 ms |\n' "$1" "$2" "$4"
	printf '| %s: until all %d are queued%s | %s cycles, %s ms | <= 200 ms a cycle |\n' "$1" "$queued" "$3" "$5" "$6"
	printf '| %s: those cycles, median and 99th percentile | %s ms, %s ms | |\n' "$1" "$8" "$9"
	printf '| %s: the next cycle, all %d queued%s | %s ms | <= 200 ms |\n' "$1" "$queued" "$3" "$7"
}
if [ "$queued" -gt 0 ] && phase cycle; then
	w="$queued jobs are queued"
	cycle_rows Orchestra "$w" "" "$qa" "$qn" "$qs" "$qc" "$qm" "$qp"
	[ -z "$before" ] || cycle_rows before "$w" "" "$qba" "$qbn" "$qbs" "$qbc" "$qbm" "$qbp"
fi
if [ "$queued" -gt 0 ] && phase retry; then
	w="a retry queues $queued failed jobs again"
	cycle_rows Orchestra "$w" " again" "$ra" "$rn" "$rs" "$rc" "$rm" "$rp"
	[ -z "$before" ] || cycle_rows before "$w" " again" "$rba" "$rbn" "$rbs" "$rbc" "$rbm" "$rbp"
fi
