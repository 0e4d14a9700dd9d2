#!/usr/bin/env bash
# bench-kube.sh - the kubernetes backend's figures of issue 6 (acceptance
# 7), with the release build, against the API simulator
# tests/kube/kube-sim.py on this machine (each pod a local process in a
# mount namespace of its own: the bench needs root):
#
#   latency     a Job's end in the simulator to the job's end in the
#               database, with a pilot whose period is 30 s (the watch,
#               not the period, must carry it; target <= 1 s): from the
#               job's own last instruction (`date +%s%N`, after `sleep 1`)
#               to the time of the event row the pilot wrote when it
#               recorded the end; min/median/max of --runs (20) jobs, one
#               at a time;
#   throughput  --burst (500) trivial jobs (`true`, test job skipped)
#               through --slots (100) slots: jobs per second from the
#               submit to the task being done, and API requests per job;
#   steady      for each N of --jobs-list ("1 100 1000"), N jobs that sleep
#               all running, with a pilot whose period is
#               --interval (2) s: API requests per steady cycle, counted
#               in the simulator's request log over --cycles (5) cycles
#               (all requests, watch opens apart, and by verb and
#               resource), and the pilot's cycle time (from its --verbose
#               log: each cycle logs when it began and how long it took).
#
#   bench/bench-kube.sh [--jobs-list "N..."] [--cycles K] [--interval S]
#                       [--runs R] [--burst M] [--slots S] [--bin PATH]
#                       [--db URL] [--quick] [--keep]
#
# --quick is a smoke run (--jobs-list "1 20" --cycles 3 --runs 5 --burst 50
# --slots 20); --db runs on that database (an empty PostgreSQL database)
# instead of a fresh SQLite file; --keep leaves the work directory (the
# request log, the pilot's logs) and prints its path.  The simulator needs
# Debian's python3-kubernetes, and root.  The full run takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

jobs_list="1 100 1000" cycles=5 interval=2 runs=20 burst=500 slots=100
bin= dburl= keep=0
usage() {
	echo "usage: $0 [--jobs-list \"N...\"] [--cycles K] [--interval S]" \
	    "[--runs R] [--burst M] [--slots S] [--bin PATH] [--db URL]" \
	    "[--quick] [--keep]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--jobs-list) jobs_list=$2; shift 2 ;;
	--cycles) cycles=$2; shift 2 ;;
	--interval) interval=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--burst) burst=$2; shift 2 ;;
	--slots) slots=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--db) dburl=$2; shift 2 ;;
	--quick) jobs_list="1 20" cycles=3 runs=5 burst=50 slots=20; shift ;;
	--keep) keep=1; shift ;;
	*) usage ;;
	esac
done
for v in $jobs_list $cycles $interval $runs $burst $slots; do
	case $v in '' | *[!0-9]* | 0) usage ;; esac
done
max_n=$slots
for n in $jobs_list; do [ "$n" -le "$max_n" ] || max_n=$n; done

py=python3
if ! $py -c 'import kubernetes' 2>/dev/null &&
    [ ! -d /usr/lib/python3/dist-packages/kubernetes ]; then
	echo "bench: the simulator needs python3-kubernetes" >&2
	exit 1
fi
if ! why=$($py tests/kube/kube-sim.py --check-pods 2>&1); then
	echo "bench: the simulator cannot run pods here: $why" >&2
	exit 1
fi
if [ -z "$bin" ]; then
	cmake --preset release >/dev/null
	cmake --build --preset release -j 2 >/dev/null
	bin=$src/build/release/orchestra
fi

home=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-bench-kube-XXXXXX")
sim= pilot=
die() {
	echo "bench: $*" >&2
	exit 1
}
# Stop one process of ours: TERM, then KILL if it is not gone in time.
stop_pid() { # PID SECONDS
	local end=$((SECONDS + $2))
	kill -TERM "$1" 2>/dev/null || return 0
	while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
stop_pilot() {
	[ -z "$pilot" ] || stop_pid "$pilot" 60
	pilot=
}
cleanup() {
	stop_pilot
	# The simulator kills its pods' processes when it is asked to stop.
	[ -z "$sim" ] || stop_pid "$sim" 60
	sim=
	if [ "$keep" = 1 ]; then
		echo "bench: work directory kept: $home" >&2
	else
		rm -rf "$home"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Poll CMD until it succeeds; fail after SECS seconds.
wait_for() { # SECS WHAT CMD...
	local secs=$1 what=$2 end=$((SECONDS + $1))
	shift 2
	until "$@"; do
		[ $SECONDS -lt $end ] || die "timed out after $secs s: $what"
		[ -z "$sim" ] || kill -0 "$sim" 2>/dev/null ||
		    die "the simulator died: $(tail -5 "$home/sim.log")"
		[ -z "$pilot" ] || kill -0 "$pilot" 2>/dev/null ||
		    die "the pilot died: $(tail -5 "$pilot_log")"
		sleep 0.05
	done
}

# ---- the simulator: one node with room for every job
cat >"$home/nodes.json" <<NODES
[{"name": "bench-node", "capacity": {"cpu": "$max_n", "memory": "4Ti"}}]
NODES
"$py" "$src/tests/kube/kube-sim.py" --state-dir "$home/sim" \
    --port-file "$home/sim-port" --admin-port-file "$home/sim-admin-port" \
    --kubeconfig-out "$home/kubeconfig" --log "$home/requests.log" \
    --nodes-file "$home/nodes.json" >/dev/null 2>"$home/sim.log" &
sim=$!
sim_up() { [ -s "$home/sim-port" ] && [ -s "$home/sim-admin-port" ] &&
    [ -s "$home/kubeconfig" ]; }
wait_for 60 "the simulator's start" sim_up
admin=http://127.0.0.1:$(cat "$home/sim-admin-port")
# The simulator's pods whose process runs.
sim_processes() {
	curl -sf --max-time 10 "$admin/state" |
	    sed -n 's/.*"processes": \([0-9]*\).*/\1/p'
}

# ---- Orchestra: the kubernetes backend; the template mounts the user's
# claim at the user's directory of the volume, an NFS export the simulator
# serves from the host's directory of its path (as tests/cli/lib.sh does),
# and $home read-only as a data set, so that the inputs under $home lie
# under what the pods mount (docs/kubernetes.md)
export ORCHESTRA_HOME=$home/orchestra ORCHESTRA_CONF=/dev/null \
    ORCHESTRA_USER=bench ORCHESTRA_BACKEND=kubernetes \
    KUBECONFIG=$home/kubeconfig ORCHESTRA_JOB_TEMPLATE=$home/job-template.yaml
vol=$ORCHESTRA_HOME/volume/bench
mkdir -p "$vol"
chmod 0711 "$ORCHESTRA_HOME/volume"
chmod 0700 "$vol"
cat >"$ORCHESTRA_JOB_TEMPLATE" <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: placeholder}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: job
          image: 'debian:12'
          volumeMounts:
            - {name: data, mountPath: '$home', readOnly: true}
            - {name: volume, mountPath: '$vol'}
      volumes:
        - {name: volume, persistentVolumeClaim: {claimName: volume}}
        - {name: data, hostPath: {path: '$home', type: Directory}}
YAML
if [ -n "$dburl" ]; then
	export ORCHESTRA_DB=$dburl
	q() { psql -X -q -A -t "$dburl" -c "$1"; }
else
	q() { sqlite3 -cmd ".timeout 10000" "$ORCHESTRA_HOME/orchestra.db" "$1"; }
fi
here=$("$bin" init --json | sed -n 's/.*"node": "\(.*\)".*/\1/p')
# Its Jobs run as this account's uid (bench has none of its own).
"$bin" user add bench --kubernetes --unix-user "$(id -un)" \
    --nfs-server sim.invalid --nfs-path "$vol" >/dev/null
"$bin" node add bench-node --max-cpu-slots "$max_n" --cpu-slots "$slots" \
    >/dev/null
# This machine is no node of the cluster.
[ -z "$here" ] || "$bin" node drain "$here" >/dev/null

now_ns() { date +%s%N; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
status() { q "SELECT status FROM task WHERE name = '$1'"; }
status_is() { [ "$(status "$1")" = "$2" ]; }
held() {
	q "SELECT count(*) FROM job WHERE status IN
	    ('assigned', 'pending', 'running', 'kill')"
}
pilot_log=
start_pilot() { # INTERVAL LOG
	pilot_log=$2
	"$bin" pilot --verbose --interval "$1" >"$pilot_log" 2>&1 &
	pilot=$!
	wait_for 30 "the pilot's start" grep -q "pilot started" "$pilot_log"
}

# ---- latency and throughput, period 30 s
start_pilot 30 "$home/pilot-30.log"
: >"$home/latency.txt"
for i in $(seq 1 "$runs"); do
	no_held() { [ "$(held)" = 0 ]; }
	wait_for 60 "no job held before run $i" no_held
	"$bin" task submit "lat-$i" --skip-test \
	    --exec "sleep 1; date +%s%%N >$vol/end-$i" >/dev/null
	ended() {
		[ -n "$(q "SELECT j.status FROM job j JOIN task t ON
		    t.id = j.task_id WHERE t.name = 'lat-$i' AND j.status IN
		    ('done', 'failed', 'killed', 'broken')")" ]
	}
	wait_for 60 "the end of job lat-$i" ended
	rec=$(q "SELECT e.time_ms FROM event e JOIN task t ON
	    t.id = e.task_id WHERE t.name = 'lat-$i' AND e.kind = 'job' AND
	    e.new_status = 'done'")
	[ -n "$rec" ] && [ -s "$vol/end-$i" ] || die "job lat-$i did not succeed"
	echo "$i $(cat "$vol/end-$i") $rec" >>"$home/latency.txt"
done

seq -f "$home/in/%04g" 1 "$burst" >"$home/list"
t0=$(now_ns)
"$bin" task submit burst --skip-test --inputs "@$home/list" \
    --exec 'true %IN' >/dev/null
wait_for 1800 "task burst done" status_is burst done
t1=$(now_ns)
echo "$burst $t0 $t1" >"$home/burst.txt"
stop_pilot

# ---- steady cycles with N running jobs, period --interval
"$bin" node set bench-node --cpu-slots "$max_n" >/dev/null
start_pilot "$interval" "$home/pilot-steady.log"
: >"$home/steady.txt"
cycles_after() { # MS: cycles that began after MS
	awk -v t="$1" '/ cycle: .* began / {
	    for (i = 1; i < NF; i++) if ($i == "began") b = $(i + 1) + 0
	    if (b > t) n++ } END { print n + 0 }' "$pilot_log"
}
# From the smallest N up, each step adds the jobs that make N: the jobs of
# the steps before still run.  Their sleep is bounded, so nothing outlives
# a bench killed hard by long; the simulator kills them when it stops.
have=0
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system
for n in $(printf '%s\n' $jobs_list | sort -n -u); do
	seq -f "$home/in/%05g" 1 $((n - have)) >"$home/list-$n"
	ts=$(now_ms)
	"$bin" task submit "steady-$n" --skip-test --inputs "@$home/list-$n" \
	    --exec 'sleep 1800 # %IN' >/dev/null
	all_running() {
		[ "$(q "SELECT count(*) FROM job WHERE status = 'running'")" = "$n" ] &&
		    [ "$(sim_processes)" -ge "$n" ]
	}
	# The client's pace (QPS) bounds the launches: allow 0.2 s a job.
	wait_for $((120 + (n - have) / 5)) "$n jobs running" all_running
	tr=$(now_ms)
	cpu0="$(cpu_ticks "$pilot") $(cpu_ticks "$sim")"
	enough_cycles() { [ "$(cycles_after "$tr")" -ge $((cycles + 2)) ]; }
	wait_for $(((cycles + 3) * interval + 300)) \
	    "$((cycles + 2)) cycles with $n running" enough_cycles
	echo "$n $ts $tr $(now_ms) $(cycles_after "$tr") $cpu0" \
	    "$(cpu_ticks "$pilot") $(cpu_ticks "$sim")" >>"$home/steady.txt"
	have=$n
done
stop_pilot

# ---- the figures
echo "bench-kube: $("$bin" --version 2>/dev/null | head -1 || true)" \
    "($(git -C "$src" describe --always --dirty 2>/dev/null || echo '?')), simulator" \
    "tests/kube/kube-sim.py, $(nproc) CPUs"
"$py" - "$home" "$cycles" "$interval" "$slots" "$(getconf CLK_TCK)" <<'PY'
import json, re, statistics, sys

home, K, interval, slots = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
tick_ms = 1000 / int(sys.argv[5])

def kind(r):
    """'verb resource' of a request: list, get, watch, create, delete..."""
    p = re.sub(r'^/(api/v1|apis/[^/]+/[^/]+)', '', r['path'])
    parts = [x for x in p.split('/') if x]
    if len(parts) >= 3 and parts[0] == 'namespaces':
        parts = parts[2:]
    if not parts:
        return '%s %s' % (r['method'], r['path'])
    res, named = parts[0], len(parts) > 1
    if len(parts) > 2:
        res += '/' + '/'.join(parts[2:])
    verb = {'POST': 'create', 'DELETE': 'delete', 'PUT': 'update',
            'PATCH': 'patch'}.get(r['method'])
    if verb is None:
        verb = 'watch' if r.get('watch') else 'get' if named else 'list'
    return verb + ' ' + res

reqs = []
with open(home + '/requests.log') as f:
    for line in f:
        r = json.loads(line)
        reqs.append((r['time'], kind(r), bool(r.get('watch'))))
reqs.sort()

def between(a, b):
    return [r for r in reqs if a <= r[0] < b]

def mmm(v, unit, fmt='%.0f'):
    v = sorted(v)
    return ('min ' + fmt + ' %s, median ' + fmt + ' %s, max ' + fmt + ' %s') % (
        v[0], unit, statistics.median(v), unit, v[-1], unit)

# Latency.
lat, to_list = [], []
for line in open(home + '/latency.txt'):
    i, end_ns, rec_ms = line.split()
    end = int(end_ns) / 1e9
    lat.append(int(rec_ms) - int(end_ns) / 1e6)
    # the pilot's first request after the end (it reads the job's log
    # tail): the watch woke it
    nxt = [t for t, k, w in reqs if t >= end and 'log' in k]
    if nxt:
        to_list.append((nxt[0] - end) * 1000)
print('latency: Job end to end recorded, %d jobs (period 30 s): %s '
      '(target <= 1000 ms)' % (len(lat), mmm(lat, 'ms')))
if to_list:
    print('  of which Job end to the pilot asking for its log: %s'
          % mmm(to_list, 'ms'))

# Throughput.
m, t0, t1 = map(int, open(home + '/burst.txt').read().split())
sec = (t1 - t0) / 1e9
n_req = len(between(t0 / 1e9, t1 / 1e9))
print('throughput: %d jobs (`true`) through %s slots in %.2f s = %.1f jobs/s, '
      '%d API requests = %.1f a job' % (m, slots, sec, m / sec, n_req,
                                         n_req / m))

# Steady cycles.
cyc = []
pat = re.compile(r' cycle: (\d+) launched, (\d+) ended, (\d+) requeued, '
                 r'(\d+) tasks changed; began (\d+), took ([0-9.]+) ms')
for line in open(home + '/pilot-steady.log'):
    mt = pat.search(line)
    if mt:
        l, e, q, c, b, took = mt.groups()
        cyc.append({'busy': int(l) + int(e) + int(q) + int(c),
                    'launched': int(l), 'began': int(b) / 1000,
                    'took': float(took)})
for line in open(home + '/steady.txt'):
    n, ts, tr, te, ncyc, p0, s0, p1, s1 = (int(x) for x in line.split())
    after = [c for c in cyc if c['began'] > tr / 1000]
    win = after[1:K + 2]            # the first may still be settling
    if len(win) < K + 1:
        print('steady N=%d: too few cycles' % n)
        continue
    a, b = win[0]['began'], win[K]['began']
    rs = between(a, b)
    busy = sum(1 for c in win[:K] if c['busy'])
    by = {}
    for _, k, _w in rs:
        by[k] = by.get(k, 0) + 1
    watches = sum(1 for r in rs if r[2])
    print('steady N=%d running: %.2f API requests a cycle (%.2f watch opens), '
          'over %d cycles of period %s s%s' % (
              n, len(rs) / K, watches / K, K, interval,
              '' if not busy else ' (%d of them not idle!)' % busy))
    print('  by request: ' + (', '.join('%s %.2f' % (k, v / K) for k, v in
                                        sorted(by.items())) or 'none'))
    print('  cycle time: %s' % mmm([c['took'] for c in win[:K]], 'ms', '%.1f'))
    # CPU over the cycles logged between all running and the window's end
    # (one cycle under way at the start may add to it)
    print('  CPU a period (the cycle and the wait after it): pilot %.0f ms, '
          'simulator %.0f ms (%d cycles in %.1f s; the simulator keeps %d '
          'pods meanwhile)' % (
              (p1 - p0) * tick_ms / ncyc, (s1 - s0) * tick_ms / ncyc, ncyc,
              (te - tr) / 1000, n))
    ramp = [c for c in cyc if ts / 1000 <= c['began'] <= tr / 1000]
    if ramp:
        launch = max(ramp, key=lambda c: (c['launched'], c['took']))
        print('  ramp-up: %d cycles from the submit to all %d running in '
              '%.1f s; the cycle launching %d took %.0f ms, the longest '
              '%.0f ms' % (len(ramp), n, (tr - ts) / 1000, launch['launched'],
                           launch['took'], max(c['took'] for c in ramp)))
PY
