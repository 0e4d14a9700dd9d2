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
#   launch      --launch (1,000) jobs that sleep, submitted at once on as
#               many free slots, pilot period --interval: the time from
#               the submit until all run (in the database and as the
#               simulator's processes), and the longest pilot cycle on
#               the way (target <= 1.5 s, issue 17);
#   faults      --fault-runs (20) times the held create of t0212: the
#               simulator holds a job's create 3 s, past the client's
#               timeout (1 s), so the client creates it again; the job
#               ends and its end is recorded before the held create lands
#               (ORCHESTRA_KUBE_CREATE_HOLD 5 s keeps its Job from being
#               deleted meanwhile).  Jobs created per job name, from the
#               simulator's count of creations (a name made again after
#               its delete counts too) and its request log: "Jobs created
#               twice: 0 of N runs" is the target.
#
#   bench/bench-kube.sh [--jobs-list "N..."] [--cycles K] [--interval S]
#                       [--runs R] [--burst M] [--slots S] [--launch N]
#                       [--fault-runs N] [--phases "P..."] [--bin PATH]
#                       [--db URL] [--quick] [--keep]
#
# --phases runs only those of "latency throughput steady launch faults"
# (all by default; latency and throughput go together).  --quick is a
# smoke run (--jobs-list "1 20" --cycles 3 --runs 5 --burst 50 --slots 20
# --launch 50 --fault-runs 2); --db runs on that database (an empty PostgreSQL database)
# instead of a fresh SQLite file; --keep leaves the work directory (the
# request log, the pilot's logs) and prints its path.  The simulator needs
# Debian's python3-kubernetes, and root.  The full run takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

jobs_list="1 100 1000" cycles=5 interval=2 runs=20 burst=500 slots=100
launch=1000 fault_runs=20 phases="latency throughput steady launch faults"
bin='' dburl='' keep=0
usage() {
	echo "usage: $0 [--jobs-list \"N...\"] [--cycles K] [--interval S]" \
	    "[--runs R] [--burst M] [--slots S] [--launch N]" \
	    "[--fault-runs N] [--phases \"P...\"] [--bin PATH] [--db URL]" \
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
	--launch) launch=$2; shift 2 ;;
	--fault-runs) fault_runs=$2; shift 2 ;;
	--phases) phases=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--db) dburl=$2; shift 2 ;;
	--quick)
		jobs_list="1 20" cycles=3 runs=5 burst=50 slots=20 launch=50
		fault_runs=2
		shift
		;;
	--keep) keep=1; shift ;;
	*) usage ;;
	esac
done
for v in $jobs_list $cycles $interval $runs $burst $slots $launch \
    $fault_runs; do
	case $v in '' | *[!0-9]* | 0) usage ;; esac
done
for p in $phases; do
	case $p in latency | throughput | steady | launch | faults) ;; *) usage ;; esac
done
phase() { case " $phases " in *" $1 "*) ;; *) return 1 ;; esac; }
max_n=$slots
for n in $jobs_list $launch; do [ "$n" -le "$max_n" ] || max_n=$n; done

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
sim='' pilot=''
die() {
	echo "bench: $*" >&2
	exit 1
}
# stop_pid, wait_for (the pilot watched)
. "$src/scripts/proc-lib.sh"
sim_log=$home/sim.log watch_pilot=1
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
if phase latency || phase throughput; then
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
	wait_for 1800 "task burst done" status_is burst "done"
	t1=$(now_ns)
	echo "$burst $t0 $t1" >"$home/burst.txt"
	stop_pilot
fi

# Stop every job still held by an earlier phase, and wait until none is.
drain() { # WHAT
	local t
	for t in $(q "SELECT name FROM task WHERE status NOT IN
	    ('done', 'finalized', 'broken', 'killed', 'killing')"); do
		# It may have begun killing meanwhile: the wait tells.
		"$bin" task kill "$t" >/dev/null 2>&1 || true
	done
	none_held() { [ "$(held)" = 0 ] && [ "$(sim_processes)" = 0 ]; }
	wait_for 900 "no job held before $1" none_held
}

# ---- faults: the held create of t0212, --fault-runs times
if phase faults; then
	# A request with no answer in 1 s has timed out; no Job is deleted
	# sooner than 5 s after its last create was sent.
	ORCHESTRA_KUBE_TIMEOUT=1s ORCHESTRA_KUBE_CREATE_HOLD=5s \
	    start_pilot 1 "$home/pilot-faults.log"
	drain "the fault runs"
	: >"$vol/fault-runs" # each job's name, as it runs
	: >"$home/faults.txt"
	admin_post() { # PATH JSON
		curl -sf --max-time 10 -X POST -H 'Content-Type: application/json' \
		    --data "$2" "$admin$1" >/dev/null
	}
	for i in $(seq 1 "$fault_runs"); do
		# The next create of a Job is held 3 s, then done.
		admin_post /faults '{"kind": "delay", "count": 1, "seconds": 3,
		    "method": "POST", "path": "/jobs$"}'
		"$bin" task submit "fault-$i" --skip-test \
		    --exec "echo fault-$i >>$vol/fault-runs" >/dev/null
		wait_for 120 "task fault-$i done" status_is "fault-$i" "done"
		# Its held create landed (3 s after it was sent, 1 s to spare).
		holds_over() {
			"$py" - "$home/requests.log" <<'PY'
import json, sys, time
held = [r for r in map(json.loads, open(sys.argv[1]))
        if r.get("fault") == "delay"]
sys.exit(0 if held and all(time.time() > r["time"] + 4 for r in held)
         else 1)
PY
		}
		wait_for 60 "the held create of fault-$i" holds_over
		# run, job id, attempts, when its end was recorded (ms)
		echo "$i $(q "SELECT j.id || ' ' || j.attempts || ' ' ||
		    e.time_ms FROM job j JOIN task t ON t.id = j.task_id
		    JOIN event e ON e.job_id = j.id AND e.new_status = 'done'
		    WHERE t.name = 'fault-$i'")" >>"$home/faults.txt"
	done
	curl -sf --max-time 10 "$admin/state" >"$home/state.json"
	stop_pilot
fi

# ---- steady cycles with N running jobs, period --interval
if phase steady; then
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
fi

# ---- launch: N sleeping jobs at once on N free slots, period --interval
if phase launch; then
	"$bin" node set bench-node --cpu-slots "$launch" >/dev/null
	start_pilot "$interval" "$home/pilot-launch.log"
	drain "the launch"
	seq -f "$home/in/l%05g" 1 "$launch" >"$home/list-launch"
	ts=$(now_ms)
	"$bin" task submit launch --skip-test --inputs "@$home/list-launch" \
	    --exec 'sleep 1800 # %IN' >/dev/null
	launch_running() {
		[ "$(q "SELECT count(*) FROM job WHERE status = 'running'")" = "$launch" ] &&
		    [ "$(sim_processes)" -ge "$launch" ]
	}
	wait_for $((120 + launch / 5)) "$launch jobs running" launch_running
	echo "$launch $ts $(now_ms)" >"$home/launch.txt"
	stop_pilot
fi

# ---- the figures
echo "bench-kube: $("$bin" --version 2>/dev/null | head -1 || true)" \
    "($(git -C "$src" describe --always --dirty 2>/dev/null || echo '?')), simulator" \
    "tests/kube/kube-sim.py, $(nproc) CPUs"
"$py" - "$home" "$cycles" "$interval" "$slots" "$(getconf CLK_TCK)" <<'PY'
import collections, json, os, re, statistics, sys

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
for line in open(home + '/latency.txt') if os.path.exists(
        home + '/latency.txt') else []:
    i, end_ns, rec_ms = line.split()
    end = int(end_ns) / 1e9
    lat.append(int(rec_ms) - int(end_ns) / 1e6)
    # the pilot's first request after the end (it reads the job's log
    # tail): the watch woke it
    nxt = [t for t, k, w in reqs if t >= end and 'log' in k]
    if nxt:
        to_list.append((nxt[0] - end) * 1000)
if lat:
    print('latency: Job end to end recorded, %d jobs (period 30 s): %s '
          '(target <= 1000 ms)' % (len(lat), mmm(lat, 'ms')))
if to_list:
    print('  of which Job end to the pilot asking for its log: %s'
          % mmm(to_list, 'ms'))

# Throughput.
m, t0, t1 = map(int, open(home + '/burst.txt').read().split()) \
    if os.path.exists(home + '/burst.txt') else (0, 0, 1)
sec = (t1 - t0) / 1e9
n_req = len(between(t0 / 1e9, t1 / 1e9))
if m: print('throughput: %d jobs (`true`) through %s slots in %.2f s = %.1f jobs/s, '
      '%d API requests = %.1f a job' % (m, slots, sec, m / sec, n_req,
                                         n_req / m))

# Steady cycles.
cyc = []
pat = re.compile(r' cycle: (\d+) launched, (\d+) ended, (\d+) requeued, '
                 r'(\d+) tasks changed(?:, \d+ stopped)?; began (\d+), '
                 r'took ([0-9.]+) ms')
def cycles_of(log):
    out = []
    for line in open(log) if os.path.exists(log) else []:
        mt = pat.search(line)
        if mt:
            l, e, q, c, b, took = mt.groups()
            out.append({'busy': int(l) + int(e) + int(q) + int(c),
                        'launched': int(l), 'began': int(b) / 1000,
                        'took': float(took)})
    return out
cyc = cycles_of(home + '/pilot-steady.log')
for line in open(home + '/steady.txt') if os.path.exists(
        home + '/steady.txt') else []:
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

# Launch: from the submit to all running, the cycles on the way.
if os.path.exists(home + '/launch.txt'):
    n, ts, tr = map(int, open(home + '/launch.txt').read().split())
    allc = cycles_of(home + '/pilot-launch.log')
    lc = [c for c in allc if ts / 1000 <= c['began'] <= tr / 1000]
    # to the end of the last cycle that launched
    last = max([i for i, c in enumerate(lc) if c['launched']] or [-1])
    lc = lc[:last + 1]
    longest = max(c['took'] for c in lc) if lc else 0
    print('launch: %d sleeping jobs on %d slots all running %.1f s after '
          'the submit, in %d cycles (%d launching); the longest cycle '
          '%.0f ms (target <= 1500 ms: %s)' % (
              n, n, (tr - ts) / 1000, len(lc),
              sum(1 for c in lc if c['launched']), longest,
              'met' if longest <= 1500 else 'NOT met'))
    before = [c['took'] for c in allc if c['began'] < ts / 1000]
    if before:
        print('  before the submit, stopping what earlier phases left '
              'running: cycles %d, the longest %.0f ms' % (
                  len(before), max(before)))

# Faults: Jobs created per job name, by the simulator's count (every
# creation of a name, one made again after its delete too) and the
# creates its request log shows for the name.
if os.path.exists(home + '/faults.txt'):
    created = json.load(open(home + '/state.json'))['created']
    posts, held = {}, {}   # creates sent, and when the held one was
    for line in open(home + '/requests.log'):
        r = json.loads(line)
        if r['method'] == 'POST' and r['path'].endswith('/jobs') and \
                isinstance(r.get('body'), dict):
            name = r['body']['metadata']['name']
            posts[name] = posts.get(name, 0) + 1
            if r.get('fault') == 'delay':
                held[name] = r['time']
    runs = twice = nheld = 0
    detail, names, margin = [], [], []
    ran = open(home + '/orchestra/volume/bench/fault-runs').read().split()
    for line in open(home + '/faults.txt'):
        i, jid, attempts, done_ms = line.split()
        name = 'orchestra-%s-%s' % (jid, attempts)
        names.append(name)
        made = sum(n for k, n in created.items()
                   if k.startswith('jobs/') and k.endswith('/' + name))
        runs += 1
        if name in held:
            nheld += 1
            # the job's end recorded this long before the held create
            # landed (held 3 s)
            margin.append(held[name] + 3 - int(done_ms) / 1000)
        if made != 1 or attempts != '1' or ran.count('fault-' + i) != 1:
            twice += made > 1
            detail.append('run %s: %s made %d times, %d creates sent, '
                          'attempts %s, ran %d times' % (
                              i, name, made, posts.get(name, 0), attempts,
                              ran.count('fault-' + i)))
    sent = collections.Counter(posts.get(n, 0) for n in names)
    print('faults: a create held 3 s past the 1 s timeout: Jobs created '
          'twice: %d of %d runs (held creates: %d of %d; creates sent a '
          'job: %s)' % (twice, runs, nheld, runs, ', '.join(
              '%d in %d runs' % kv for kv in sorted(sent.items()))))
    if margin:
        print('  the job ended before its held create landed in %d of %d '
              'runs (%s)' % (sum(1 for m in margin if m > 0), len(margin),
                             mmm([m * 1000 for m in margin], 'ms')))
    for d in detail:
        print('  ' + d)
PY
