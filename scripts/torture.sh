#!/usr/bin/env bash
# torture.sh - run many jobs through a pilot that keeps being killed, then
# check that nothing was lost, run twice or run beside itself (issue 17).
#
#   scripts/torture.sh [--db sqlite|pg] [--backend local|kube] [--jobs N]
#                      [--kills K] [--super-kills S] [--restarts R]
#                      [--slots S] [--short] [--bin PATH] [--keep]
#
# --jobs (1,000) jobs in four tasks (one with its test job, one whose
# jobs partly fail, two plain), each job a shell that appends "start" to
# a ledger under flock(1), sleeps 0.2 to 0.9 s, appends "end" (job id,
# attempt, node, time in ns) and exits 0, or 3 for the jobs meant to
# fail; --slots (8) CPU slots on each node.  Meanwhile:
#
#   * the pilot (`orchestra pilot`) is SIGKILLed at random, 0.2 to 1.5 s
#     after each start, and started again at once, until the tasks have
#     ended and at least --kills (50) kills were made;
#   * on the local backend, --super-kills (30) random supervisors (the
#     processes in sessions of their own that hold a job) are SIGKILLed:
#     one right after each pilot kill while kills are owed (no pilot runs
#     then), and now and then one while the pilot runs; at most two a
#     job, whose loss each is, since a third loss fails a job by design;
#   * on PostgreSQL (a private server of its own), the server is stopped
#     --restarts (3) times, for 2 s, at a quarter, a half and three
#     quarters of the jobs ended;
#   * on the Kubernetes simulator (tests/kube/kube-sim.py, two nodes of
#     --slots each), the fault kinds of t0203 at lower rates: 500s (5%),
#     timeouts of 2 s (2%, and 2% after doing the work), 429 with
#     Retry-After (2%), dropped connections (2%), 500 on 10% of watches,
#     watch streams cut every 5 s and the history compacted every 7 s;
#     the client's timeout 1 s, no Job deleted within 4 s of its create.
#
# Each pilot is killed at a random moment of its life, its start-up
# included: on Kubernetes, under load, many die before their first
# cycle, so a run makes many more kills than asked for and takes longer
# (10 to 16 minutes on a busy 2-core machine, against 1.5 to 2 for local).
#
# Then the invariants, each violation said with what it was:
#
#   1. each job's command ran to its end exactly once (one "end" in the
#      ledger), and the job is done (or failed, for those meant to fail)
#      with its exit code;
#   2. each task is in the state its jobs imply (done; finalized);
#   3. never more jobs running on a node than its slots: an attempt runs
#      from its "start" to its "end", or, killed before its end, to the
#      pilot's record of its loss (which it writes after killing it);
#   4. every change is in the event table: each job's and task's events
#      chain, from its first status to its status now;
#   5. on Kubernetes, no Job was created twice (the simulator counts every
#      creation of a name).
#
# The closing report gives the kills, supervisor kills, restarts, faults
# injected, jobs checked and the time; the exit status is 0 only when no
# invariant was broken.  --short is the test suite's version (120 jobs,
# 8 kills, 4 supervisor kills, 1 restart).  --bin runs that binary (else
# the release build, made if missing); --keep keeps the work directory.
# The Kubernetes simulator needs root and Debian's python3-kubernetes;
# PostgreSQL its Debian server.
# shellcheck disable=SC2317 # functions called by trap and wait_for
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

db=sqlite backend=local jobs=1000 kills=50 super_kills=30 restarts=3
slots='' bin='' keep=0 short=0
usage() {
	echo "usage: $0 [--db sqlite|pg] [--backend local|kube] [--jobs N]" \
	    "[--kills K] [--super-kills S] [--restarts R] [--slots S]" \
	    "[--short] [--bin PATH] [--keep]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || case $1 in --short | --keep) ;; *) usage ;; esac
	case $1 in
	--db) db=$2; shift 2 ;;
	--backend) backend=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--kills) kills=$2; shift 2 ;;
	--super-kills) super_kills=$2; shift 2 ;;
	--restarts) restarts=$2; shift 2 ;;
	--slots) slots=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--short) short=1; jobs=120 kills=8 super_kills=4 restarts=1; shift ;;
	--keep) keep=1; shift ;;
	*) usage ;;
	esac
done
case $db in sqlite | pg) ;; *) usage ;; esac
case $backend in local | kube) ;; *) usage ;; esac
for v in $jobs $kills $super_kills $restarts ${slots:-1}; do
	case $v in '' | *[!0-9]*) usage ;; esac
done
[ "$jobs" -ge 8 ] || usage
[ -n "$slots" ] || slots=8
[ "$backend" = local ] || super_kills=0
[ "$db" = pg ] || restarts=0
# The last restart comes at R/(R+1) of the jobs ended, which the four
# gated jobs must leave reachable.
if [ "$jobs" -lt $((4 * (restarts + 1))) ]; then
	echo "$0: --jobs must be at least $((4 * (restarts + 1))) for" \
	    "$restarts restarts" >&2
	exit 2
fi

py=python3
if [ "$backend" = kube ]; then
	if ! $py -c 'import kubernetes' 2>/dev/null &&
	    [ ! -d /usr/lib/python3/dist-packages/kubernetes ]; then
		echo "torture: the simulator needs python3-kubernetes" >&2
		exit 77
	fi
	if ! why=$($py tests/kube/kube-sim.py --check-pods 2>&1); then
		echo "torture: the simulator cannot run pods here:" \
		    "$(echo "$why" | tail -n 1)" >&2
		exit 77
	fi
fi
if [ "$db" = pg ] && ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
	echo "torture: no PostgreSQL server installed" >&2
	exit 77
fi
if [ -z "$bin" ]; then
	if [ ! -x build/release/orchestra ]; then
		cmake --preset release >/dev/null
		cmake --build --preset release -j 2 >/dev/null
	fi
	bin=$src/build/release/orchestra
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-torture-XXXXXX")
chmod 0755 "$work"
pilot='' sim='' t_start=$SECONDS
die() {
	echo "torture: $*" >&2
	exit 1
}
# stop_pid, wait_for
. "$src/scripts/proc-lib.sh"
# cgroup_dir_logged, cgroup_pool_remove
. "$src/scripts/cgroup-lib.sh"
sim_log=$work/sim.log
cleanup() {
	local p
	[ -z "$pilot" ] || stop_pid "$pilot" 30
	pilot=
	for p in $(job_procs 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null || true
	done
	# The pool's memory cgroups outlive a pilot killed (local backend).
	cgroup_pool_remove "$work/home" \
	    "$(cgroup_dir_logged "$work/pilot.log")" || true
	# The simulator kills its pods' processes when it stops.
	[ -z "$sim" ] || stop_pid "$sim" 60
	sim=
	[ ! -d "$work/pg" ] || "$src/tests/lib/pg-stop.sh" "$work/pg" || true
	if [ "$keep" = 1 ]; then
		echo "torture: work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export ORCHESTRA_HOME=$work/home ORCHESTRA_CONF=/dev/null
export ORCHESTRA_USER=torture LC_ALL=C
unset ORCHESTRA_DB ORCHESTRA_VOLUME ORCHESTRA_URL ORCHESTRA_TOKEN \
    ORCHESTRA_BACKEND ORCHESTRA_JOB_TEMPLATE ORCHESTRA_SMTP_URL KUBECONFIG
vol=$ORCHESTRA_HOME/volume/torture
mkdir -p "$vol"
chmod 0711 "$ORCHESTRA_HOME" "$ORCHESTRA_HOME/volume"
chmod 0700 "$vol"
ledger=$vol/ledger
: >"$ledger"

# ---- the database
pg_bin='' as=()
if [ "$db" = pg ]; then
	env -u ORCHESTRA_HOME "$src/tests/lib/pg-start.sh" "$work/pg" >/dev/null ||
	    die "cannot start PostgreSQL"
	psql -X -q "$(cat "$work/pg/url")" -c "CREATE DATABASE torture" \
	    >/dev/null
	ORCHESTRA_DB="$(dirname "$(cat "$work/pg/url")")/torture"
	export ORCHESTRA_DB
	pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	[ "$(id -u)" -ne 0 ] || as=(runuser -u postgres --)
	q() { psql -X -q -A -t -F '|' "$ORCHESTRA_DB" -c "$1"; }
else
	q() { sqlite3 -cmd ".timeout 30000" "$ORCHESTRA_HOME/orchestra.db" "$1"; }
fi
pg_down() {
	"${as[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null
}
pg_up() {
	# Not with our ORCHESTRA_HOME: job_procs would take it for a job.
	env -u ORCHESTRA_HOME "${as[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" \
	    -l "$work/pg/server.log" \
	    -w -o "-p $(cat "$work/pg/port") -k $work/pg \
	    -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
	    start >/dev/null
}

# ---- the backend
here=$(ORCHESTRA_USER=torture-admin "$bin" init --json | sed -n 's/.*"node": "\(.*\)".*/\1/p')
if [ "$backend" = kube ]; then
	cat >"$work/nodes.json" <<NODES
[{"name": "node-a", "capacity": {"cpu": "$slots", "memory": "64Gi"}},
 {"name": "node-b", "capacity": {"cpu": "$slots", "memory": "64Gi"}}]
NODES
	"$py" "$src/tests/kube/kube-sim.py" --state-dir "$work/sim" \
	    --port-file "$work/sim-port" \
	    --admin-port-file "$work/sim-admin-port" \
	    --kubeconfig-out "$work/kubeconfig" --log "$work/requests.log" \
	    --nodes-file "$work/nodes.json" >/dev/null 2>"$work/sim.log" &
	sim=$!
	sim_up() { [ -s "$work/sim-port" ] && [ -s "$work/sim-admin-port" ]; }
	wait_for 60 "the simulator's start" sim_up
	admin=http://127.0.0.1:$(cat "$work/sim-admin-port")
	export KUBECONFIG=$work/kubeconfig ORCHESTRA_BACKEND=kubernetes
	export ORCHESTRA_JOB_TEMPLATE=$work/job-template.yaml
	# A request with no answer in 1 s has timed out; a create may be held
	# 2 s: no Job is deleted sooner than 4 s after its last create.
	export ORCHESTRA_KUBE_TIMEOUT=1s ORCHESTRA_KUBE_CREATE_HOLD=4s
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
            - {name: volume, mountPath: '$vol'}
      volumes:
        - {name: volume, persistentVolumeClaim: {claimName: volume}}
YAML
	"$bin" user add torture --kubernetes --unix-user "$(id -un)" \
	    --nfs-server sim.invalid --nfs-path "$vol" >/dev/null
	for n in node-a node-b; do
		"$bin" node add "$n" --max-cpu-slots "$slots" \
		    --cpu-slots "$slots" >/dev/null
	done
	[ -z "$here" ] || "$bin" node drain "$here" >/dev/null
	sim_admin() { # METHOD PATH [JSON]
		curl -sf --noproxy '*' --max-time 10 -X "$1" \
		    -H 'Content-Type: application/json' ${3:+--data "$3"} \
		    "$admin$2" >/dev/null
	}
	# The rules of t0203; each takes its share of what is left.
	sim_admin POST /faults '{"kind": "500", "probability": 0.05, "watch": false}'
	sim_admin POST /faults '{"kind": "delay_after", "probability": 0.02, "seconds": 2, "watch": false}'
	sim_admin POST /faults '{"kind": "delay", "probability": 0.02, "seconds": 2, "watch": false}'
	sim_admin POST /faults '{"kind": "429", "probability": 0.02, "retry_after": 1, "watch": false}'
	sim_admin POST /faults '{"kind": "drop", "probability": 0.02, "watch": false}'
	sim_admin POST /faults '{"kind": "500", "probability": 0.10, "watch": true}'
	sim_admin POST /chaos '{"cut_watches_every": 5, "compact_every": 7}'
else
	"$bin" user add torture --unix-user "$(id -un)" >/dev/null
	"$bin" node set "$here" --max-cpu-slots "$slots" --cpu-slots "$slots" \
	    >/dev/null
fi

# The processes of our supervisors and jobs (and, on Kubernetes, pods):
# outside this script's session, with this ORCHESTRA_HOME in their
# environment (as tests/cli/lib.sh finds them).
job_procs() {
	local sid p psid
	sid=$(ps -o sid= -p $$ | tr -d ' ')
	ps -eo pid=,sid= | while read -r p psid; do
		[ "$psid" != "$sid" ] || continue
		[ "$p" != "$pilot" ] || continue
		if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" |
		    grep -qxF -e "ORCHESTRA_HOME=$ORCHESTRA_HOME" \
		    -e "ORCHESTRA_OUT=$vol"; then
			echo "$p"
		fi
	done
}
# Supervisors: our processes that lead a session of their own and are
# the launcher's program, or the pilot's, not a job's shell.
supervisors() {
	local sid p psid comm
	sid=$(ps -o sid= -p $$ | tr -d ' ')
	ps -eo pid=,sid=,comm= | while read -r p psid comm; do
		if [ "$p" != "$psid" ] || [ "$psid" = "$sid" ]; then
			continue
		fi
		case $comm in orchestra*) ;; *) continue ;; esac
		if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" |
		    grep -qxF "ORCHESTRA_HOME=$ORCHESTRA_HOME"; then
			echo "$p"
		fi
	done
}
# Kill one supervisor, at random among those whose job has been hit the
# fewest times, and never a job's third: a job lost three times is
# failed by design (PILOT_MAX_LOST, docs/internals/pilot.md), and the
# gated jobs, which run longest, were often the only ones left to hit
# (three short runs in eighty failed so).  A supervisor's job is its
# descriptor 3, the <id>-<attempt>.job file.  Fails when there is none
# to kill.
declare -A hits=()
kill_supervisor() {
	local p f j least=2 pick=()
	declare -A job_of=()
	for p in $(supervisors); do
		f=$(readlink "/proc/$p/fd/3" 2>/dev/null) || continue
		f=${f##*/}
		case $f in [0-9]*-[0-9]*.job) ;; *) continue ;; esac
		j=${f%%-*}
		job_of[$p]=$j
		[ "${hits[$j]:-0}" -ge "$least" ] || least=${hits[$j]:-0}
	done
	[ "$least" -lt 2 ] || return 1
	for p in "${!job_of[@]}"; do
		[ "${hits[${job_of[$p]}]:-0}" != "$least" ] || pick+=("$p")
	done
	[ "${#pick[@]}" -gt 0 ] || return 1
	p=${pick[RANDOM % ${#pick[@]}]}
	kill -KILL "$p" 2>/dev/null || return 1
	hits[${job_of[$p]}]=$((${hits[${job_of[$p]}]:-0} + 1))
}

# ---- the tasks: a quarter each; "mixed" has every 25th job fail.  The
# last job of each ("-gate") ends only once the gate is open, which the
# killers open when they have made their kills: the tasks cannot end
# before, however fast the rest of the jobs run.
per=$((jobs / 4))
names="tested plain mixed last"
gate=$vol/gate
for t in $names; do
	n=$per
	[ "$t" != last ] || n=$((jobs - 3 * per))
	for k in $(seq 1 "$n"); do
		if [ "$t" = mixed ] && [ $((k % 25)) = 3 ]; then
			printf '%s/in/%s-fail-%05d\n' "$vol" "$t" "$k"
		elif [ "$k" = "$n" ]; then
			printf '%s/in/%s-ok-%05d-gate\n' "$vol" "$t" "$k"
		else
			printf '%s/in/%s-ok-%05d\n' "$vol" "$t" "$k"
		fi
	done >"$work/list-$t"
done
# A ledger line: what, job id, attempt, node, time (ns); %% is a literal %.
note() {
	# shellcheck disable=SC2016 # for the job's shell
	printf '{ flock 9; echo %s $ORCHESTRA_JOB_ID $ORCHESTRA_ATTEMPT' "$1"
	# shellcheck disable=SC2016
	printf ' $ORCHESTRA_NODE $(date +%%%%s%%%%N) >&9; } 9>>%s' "$ledger"
}
# A gated job waits for the gate (10 minutes at most), polling.
wait_gate="i=0; while [ ! -e $gate ] && [ \$i -lt 12000 ]; do sleep 0.05;"
wait_gate="$wait_gate i=\$((i + 1)); done"
cmd="$(note start); sleep 0.\$((ORCHESTRA_JOB_ID % 8 + 2));"
cmd="$cmd case %IN in *-gate) $wait_gate ;; esac; $(note end);"
cmd="$cmd case %IN in */*-fail-*) exit 3 ;; esac"

pilot_log=$work/pilot.log
start_pilot() {
	"$bin" pilot --interval 1 >>"$pilot_log" 2>&1 &
	pilot=$!
}
ended_jobs() {
	q "SELECT count(*) FROM job WHERE status IN ('done', 'failed')"
}
tasks_ended() {
	[ "$(q "SELECT count(*) FROM task WHERE status NOT IN
	    ('done', 'finalized')")" = 0 ]
}
rand_ms() { # LOW HIGH: a random number of ms between them
	echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1)))
}
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

start_pilot
for t in $names; do
	skip=--skip-test
	[ "$t" != tested ] || skip=
	# shellcheck disable=SC2086 # no option, or one
	"$bin" task submit "$t" $skip --inputs "@$work/list-$t" \
	    --exec "$cmd" >/dev/null 2>"$work/submit.log" ||
	    die "cannot submit task $t: $(cat "$work/submit.log")"
done

# ---- the killers: the pilot each 0.2 to 1.5 s, now and then a
# supervisor, the database server at a quarter, half and three quarters
nkill=0 nsuper=0 nrestart=0 nsuper_none=0
deadline=$((SECONDS + (short ? 600 : 3600)))
while :; do
	# Once the kills, supervisor kills and restarts are made the gate
	# opens and the loop goes on (and kills on) until the tasks end: with
	# the gated jobs waiting, the jobs ended pass each restart's mark and
	# supervisors run, so none is left owed by tasks that ended before
	# the loop came round to it.  Before, tasks that end mean enough work
	# was done while kills were owed: more jobs would be needed for them
	# to mean anything.
	if [ "$nkill" -ge "$kills" ] && [ "$nsuper" -ge "$super_kills" ] &&
	    [ "$nrestart" -ge "$restarts" ]; then
		[ -e "$gate" ] || : >"$gate"
		! tasks_ended || break
	elif tasks_ended; then
		die "the tasks ended before the faults were made ($nkill of" \
		    "$kills pilot kills, $nsuper of $super_kills supervisor" \
		    "kills, $nrestart of $restarts restarts)"
	fi
	[ $SECONDS -lt $deadline ] ||
	    die "timed out: $(ended_jobs) of $jobs jobs ended," \
		"$nkill kills (work directory: $work; --keep keeps it)"
	sleep_ms "$(rand_ms 200 1500)"
	kill -KILL "$pilot" 2>/dev/null || true
	wait "$pilot" 2>/dev/null || true
	nkill=$((nkill + 1))
	# While supervisor kills are owed, one at each pilot kill that finds
	# a supervisor (a coin here left a short run owing one when its
	# tasks ended).
	if [ "$nsuper" -lt "$super_kills" ]; then
		if kill_supervisor; then
			nsuper=$((nsuper + 1))
		else
			nsuper_none=$((nsuper_none + 1))
		fi
	fi
	if [ "$nrestart" -lt "$restarts" ] &&
	    [ "$(ended_jobs)" -ge $((jobs * (nrestart + 1) / (restarts + 1))) ]
	then
		start_pilot
		pg_down
		# The outage itself is the scenario, not a wait on a condition.
		sleep 2
		pg_up
		nrestart=$((nrestart + 1))
		continue
	fi
	# Now and then a supervisor while the pilot is up too.
	start_pilot
	if [ "$nsuper" -lt "$super_kills" ] && [ $((RANDOM % 4)) = 0 ]; then
		sleep_ms "$(rand_ms 50 300)"
		! kill_supervisor || nsuper=$((nsuper + 1))
	fi
done
if [ "$nsuper" -lt "$super_kills" ]; then
	die "only $nsuper of $super_kills supervisor kills made"
fi
if [ "$nrestart" -lt "$restarts" ]; then
	die "only $nrestart of $restarts server restarts made"
fi
elapsed=$((SECONDS - t_start))

# Let the last pilot settle: every job's process gone, no pod left.
no_procs() { [ -z "$(job_procs)" ]; }
wait_for 120 "the jobs' processes to end" no_procs
if [ "$backend" = kube ]; then
	sim_admin DELETE /faults
	curl -sf --noproxy '*' --max-time 10 "$admin/state" >"$work/state.json"
fi
stop_pid "$pilot" 60
pilot=

# ---- the invariants
q "SELECT j.id, t.name, j.input, j.status, j.exit_code, j.attempts,
    COALESCE(n.name, '') FROM job j JOIN task t ON t.id = j.task_id
    LEFT JOIN node n ON n.id = j.node_id ORDER BY j.id" >"$work/jobs.txt"
q "SELECT id, name, status FROM task ORDER BY id" >"$work/tasks.txt"
q "SELECT name, cpu_slots FROM node" >"$work/nodes.txt"
q "SELECT id, time_ms, kind, COALESCE(task_id, 0), COALESCE(job_id, 0),
    COALESCE(old_status, ''), COALESCE(new_status, '')
    FROM event WHERE kind IN ('task', 'job') ORDER BY id" >"$work/events.txt"
faults=none
if [ "$backend" = kube ]; then
	faults=$("$py" - "$work/requests.log" <<'PY'
import collections, json, sys
seen = collections.Counter(json.loads(l).get("fault")
                           for l in open(sys.argv[1]))
del seen[None]
print("%d (%s)" % (sum(seen.values()),
      ", ".join("%s %d" % kv for kv in sorted(seen.items()))))
PY
)
fi
sanitizer=0
! grep -Eq 'Sanitizer|runtime error:' "$pilot_log" || sanitizer=1

set +e
"$py" - "$work" "$jobs" "$backend" "$sanitizer" <<'PY'
import collections, json, os, sys

work, njobs, backend, sanitizer = sys.argv[1], int(sys.argv[2]), \
    sys.argv[3], sys.argv[4] == '1'
bad = []

def rows(name):
    with open(os.path.join(work, name)) as f:
        return [l.rstrip('\n').split('|') for l in f if l.strip()]

jobs = {int(r[0]): {'task': r[1], 'input': r[2], 'status': r[3],
                    'exit': r[4], 'attempts': int(r[5]), 'node': r[6]}
        for r in rows('jobs.txt')}
tasks = {int(r[0]): {'name': r[1], 'status': r[2]} for r in rows('tasks.txt')}
slots = {r[0]: int(r[1]) for r in rows('nodes.txt')}
events = [(int(r[0]), int(r[1]), r[2], int(r[3]), int(r[4]), r[5], r[6])
          for r in rows('events.txt')]
ledger = []
with open(os.path.join(work, 'home/volume/torture/ledger')) as f:
    for n, line in enumerate(f, 1):
        p = line.split()
        if len(p) != 5 or p[0] not in ('start', 'end'):
            bad.append('ledger line %d is torn: %r' % (n, line))
            continue
        ledger.append((p[0], int(p[1]), int(p[2]), p[3], int(p[4])))

if len(jobs) != njobs:
    bad.append('%d jobs in the database, not %d' % (len(jobs), njobs))

# 1. Each job's command ran to its end exactly once; its status says so.
ends = collections.Counter(j for k, j, a, n, t in ledger if k == 'end')
starts = collections.Counter(j for k, j, a, n, t in ledger if k == 'start')
for jid, j in sorted(jobs.items()):
    fail = '-fail-' in j['input']
    want = ('failed', '3') if fail else ('done', '0')
    if ends[jid] != 1:
        bad.append('job %d (%s %s) ran to its end %d times' %
                   (jid, j['task'], j['input'], ends[jid]))
    if (j['status'], j['exit']) != want:
        bad.append('job %d (%s %s) is %s with exit code %s, not %s %s' %
                   ((jid, j['task'], j['input'], j['status'], j['exit'] or
                     'none') + want))
for jid in ends:
    if jid not in jobs:
        bad.append('the ledger has an end of job %d, which is no job' % jid)

# 2. Each task in the state its jobs imply.
by_task = collections.defaultdict(list)
for j in jobs.values():
    by_task[j['task']].append(j['status'])
for t in tasks.values():
    st = by_task[t['name']]
    if any(s not in ('done', 'failed') for s in st):
        want = 'not ended'
    elif all(s == 'done' for s in st):
        want = 'done'
    else:
        want = 'finalized'
    if t['status'] != want:
        bad.append('task %s is %s, its jobs imply %s' %
                   (t['name'], t['status'], want))

# 3. Never more jobs running on a node than its slots.  An attempt runs
# from its start to its end in the ledger; one killed before its end ran
# until the pilot recorded its loss (an event of the job leaving pending
# or running), which it writes after killing what was left of it.
left = collections.defaultdict(list)
for e in events:
    if e[2] == 'job' and e[5] in ('pending', 'running'):
        left[e[4]].append(e[1] * 1000000)
attempts = {}
for k, j, a, n, t in ledger:
    at = attempts.setdefault((j, a), {'node': n})
    if k in at:
        bad.append('job %d attempt %d has two %ss in the ledger' % (j, a, k))
    at[k] = t
sweep = []
for (j, a), at in attempts.items():
    if 'start' not in at:
        bad.append('job %d attempt %d ended without a start' % (j, a))
        continue
    end = at.get('end')
    if end is None:
        after = [t for t in left[j] if t >= at['start'] - 1000000]
        if not after:
            bad.append('job %d attempt %d started at %d, never ended, and '
                       'its loss was never recorded' % (j, a, at['start']))
            continue
        end = min(after)
        at['lost'] = True
    at['until'] = end
    sweep.append((at['start'], 1, at['node'], j, a))
    sweep.append((end, -1, at['node'], j, a))
sweep.sort(key=lambda s: (s[0], s[1]))
running = collections.defaultdict(set)
peak = collections.Counter()
for t, d, node, j, a in sweep:
    if d > 0:
        running[node].add((j, a))
        peak[node] = max(peak[node], len(running[node]))
        if node not in slots:
            bad.append('job %d attempt %d ran on %r, no node' % (j, a, node))
        elif len(running[node]) == slots[node] + 1:
            # once an episode: as it goes over
            # each attempt from its start, until its end in the ledger
            # or ("lost") the record of its loss, in ms from here
            bad.append('%d jobs ran on %s at %d, on %d slots: %s' % (
                len(running[node]), node, t, slots[node], ', '.join(
                    '%d/%d %+d..%+d%s' % (
                        rj, ra, (attempts[rj, ra]['start'] - t) // 1000000,
                        (attempts[rj, ra]['until'] - t) // 1000000,
                        ' lost' if attempts[rj, ra].get('lost') else '')
                    for rj, ra in sorted(running[node]))))
    else:
        running[node].discard((j, a))

# 4. Every change in the event table: each job's and task's events chain
# from its first status to its status now.
chains = collections.defaultdict(list)
for e in events:
    key = ('job', e[4]) if e[2] == 'job' else ('task', e[3])
    chains[key].append(e)
for key, now in [(('job', i), j['status']) for i, j in jobs.items()] + \
        [(('task', i), t['status']) for i, t in tasks.items()]:
    ch = chains.get(key, [])
    if not ch:
        bad.append('%s %d has no event' % key)
        continue
    prev = ch[0][5] or None
    for e in ch:
        if prev is not None and e[5] and e[5] != prev:
            bad.append('%s %d: event %d goes from %s, but it was %s' %
                       (key + (e[0], e[5], prev)))
            break
        prev = e[6]
    if prev != now:
        bad.append('%s %d is %s, its last event says %s' % (key + (now, prev)))

# 5. On Kubernetes, no Job created twice.
if backend == 'kube':
    created = json.load(open(os.path.join(work, 'state.json')))['created']
    twice = sorted(k for k, n in created.items()
                   if k.startswith('jobs/') and n > 1)
    if twice:
        bad.append('Jobs created more than once: %s' % ', '.join(twice))
if sanitizer:
    bad.append("a sanitizer report in the pilot's log")

lost = sum(1 for j, n in starts.items() if n > 1)
print('jobs checked: %d (%d attempts; %d jobs started more than once, each '
      'ended once); most running at once: %s' % (
          len(jobs), len(attempts), lost,
          ', '.join('%s %d of %d slots' % (n, peak[n], slots.get(n, 0))
                    for n in sorted(peak))))
for b in bad[:50]:
    print('VIOLATION: ' + b)
if len(bad) > 50:
    print('... and %d more' % (len(bad) - 50))
sys.exit(1 if bad else 0)
PY
rc=$?
set -e
echo "torture: db $db, backend $backend: $jobs jobs, pilot kills $nkill," \
    "supervisor kills $nsuper, PostgreSQL restarts $nrestart, faults" \
    "injected $faults, $elapsed s: $([ $rc = 0 ] && echo PASS || echo FAIL)"
exit $rc
