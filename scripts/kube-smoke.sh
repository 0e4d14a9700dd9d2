#!/usr/bin/env bash
# kube-smoke.sh - run Orchestra end to end on the Kubernetes cluster of
# $KUBECONFIG: a CPU task and, when a node offers nvidia.com/gpu, a GPU
# task, each of a few jobs; check that every job ran as a Job in the
# smoke user's namespace, wrote what it should under $ORCHESTRA_VOLUME,
# and that nothing of it is left behind.
#
#   scripts/kube-smoke.sh [--user NAME] [--unix-user ACCOUNT]
#                         [--nfs-server HOST --nfs-path PATH]
#                         [--node NODE]... [--jobs N] [--image IMAGE]
#                         [--timeout SECS] [--bin PATH] [--keep]
#
# It needs, as a pilot of the lab needs (docs/kubernetes.md):
#   KUBECONFIG          a kubeconfig whose account may do what the
#                       ClusterRole of deploy/pilot.yaml grants
#   ORCHESTRA_VOLUME    the users' volume root as mounted on this machine,
#                       at the same path as in the pods; the smoke user's
#                       directory of it ($ORCHESTRA_VOLUME/NAME) must exist
#                       and belong to ACCOUNT, as for any user
#   ORCHESTRA_JOB_TEMPLATE
#                       the lab's job template (optional: else the
#                       built-in one)
#
# The run is its own: a fresh ORCHESTRA_HOME with a SQLite database in a
# temporary directory and a pilot of its own, so the lab's database and
# pilot are never touched.  Its jobs belong to the user NAME (default
# orchestra-smoke; its own namespace, so that its Job names
# orchestra-ID-ATTEMPT never meet a real user's), run as the Unix account
# ACCOUNT (default: the account running this script), and go to the nodes
# `orchestra node sync` finds (only the --node ones when given; the
# others are drained).  With --nfs-server and --nfs-path the user's
# namespace, volume and claim are made (or checked: made once, harmless
# again); without them they must exist already.  The namespace, volume and
# claim stay for the next run; remove them with
#   kubectl delete namespace NAME; kubectl delete pv orchestra-NAME
#
# It exits 0 when every check held, 1 on the first that did not (saying
# which, with the pilot's log and the failed jobs' logs), 2 on a usage
# error.  --keep leaves the temporary directory and prints its path.
set -euo pipefail

user=orchestra-smoke unix_user=$(id -un) nfs_server='' nfs_path='' nodes=()
jobs=3 image='' timeout=600 bin='' keep=0
usage() {
	sed -n '/^#   scripts/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--user) user=${2:?}; shift 2 ;;
	--unix-user) unix_user=${2:?}; shift 2 ;;
	--nfs-server) nfs_server=${2:?}; shift 2 ;;
	--nfs-path) nfs_path=${2:?}; shift 2 ;;
	--node) nodes+=("${2:?}"); shift 2 ;;
	--jobs) jobs=${2:?}; shift 2 ;;
	--image) image=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--bin) bin=${2:?}; shift 2 ;;
	--keep) keep=1; shift ;;
	-h | --help) usage ;;
	*) echo "kube-smoke: unknown option '$1'" >&2; usage ;;
	esac
done

die() {
	echo "kube-smoke: FAIL: $*" >&2
	exit 1
}
say() {
	echo "kube-smoke: $*"
}

[[ $jobs =~ ^[1-9][0-9]?$ ]] || die "--jobs must be 1 to 99, not '$jobs'"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout must be seconds, not '$timeout'"
if [ -n "$nfs_server$nfs_path" ] && { [ -z "$nfs_server" ] || [ -z "$nfs_path" ]; }; then
	die "--nfs-server and --nfs-path go together"
fi
[ -n "${KUBECONFIG:-}" ] || die "KUBECONFIG is not set"
[ -r "$KUBECONFIG" ] || die "cannot read KUBECONFIG '$KUBECONFIG'"
case ${ORCHESTRA_VOLUME:-} in
/*) ;;
"") die "ORCHESTRA_VOLUME is not set (the users' volume root, as in the pods)" ;;
*) die "ORCHESTRA_VOLUME '$ORCHESTRA_VOLUME' is not an absolute path" ;;
esac
if [ -z "$bin" ]; then
	here=$(cd "$(dirname "$0")/.." && pwd)
	for b in "$here/build/release/orchestra" "$here/build/dev/orchestra" \
	    "$(command -v orchestra || true)"; do
		if [ -n "$b" ] && [ -x "$b" ]; then
			bin=$b
			break
		fi
	done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
	die "no orchestra binary (give --bin PATH)"
fi
id -u "$unix_user" >/dev/null 2>&1 || die "no Unix account '$unix_user' here"

# As the job's account: root makes and reads the smoke user's files as it
# (an NFS export may squash root); anyone else is that account already.
as_account() {
	if [ "$(id -u)" = 0 ] && [ "$unix_user" != "$(id -un)" ]; then
		runuser -u "$unix_user" -- "$@"
	else
		"$@"
	fi
}
if [ "$(id -u)" != 0 ] && [ "$unix_user" != "$(id -un)" ]; then
	die "only root may run the jobs as '$unix_user' (run as that account, or as root)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kube-smoke.XXXXXX")
stamp=$(date +%Y%m%d%H%M%S)-$$
uvol=$ORCHESTRA_VOLUME/$user
indir=$uvol/kube-smoke-inputs-$stamp
pilot_pid=
cleanup() {
	local rc=$?
	if [ -n "$pilot_pid" ] && kill -0 "$pilot_pid" 2>/dev/null; then
		kill -TERM "$pilot_pid" 2>/dev/null || true
		wait "$pilot_pid" 2>/dev/null || true
	fi
	as_account rm -rf "$indir" 2>/dev/null || true
	if [ "$rc" != 0 ] && [ -s "$work/pilot.log" ]; then
		echo "kube-smoke: the pilot's log (last 30 lines):" >&2
		tail -n 30 "$work/pilot.log" | sed 's/^/  /' >&2
	fi
	if [ "$keep" = 1 ] || [ "$rc" != 0 ]; then
		echo "kube-smoke: its files are in $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

export ORCHESTRA_HOME=$work/home ORCHESTRA_CONF=$work/orchestra.conf
export ORCHESTRA_BACKEND=kubernetes ORCHESTRA_USER=$user
unset ORCHESTRA_DB ORCHESTRA_URL ORCHESTRA_TOKEN ORCHESTRA_SMTP_URL
: >"$ORCHESTRA_CONF"
orch() {
	"$bin" "$@"
}

say "cluster of $KUBECONFIG, user $user (Unix account $unix_user), volume $uvol"
orch init >/dev/null || die "orchestra init"
orch node sync --json >"$work/nodes.json" ||
    die "orchestra node sync: the API server cannot be reached, or refused"
# This machine's node (init's) runs nothing here unless the cluster has it.
python3 - "$work/nodes.json" "${nodes[@]}" >"$work/plan" <<'PY' ||
import json, sys
nodes = json.load(open(sys.argv[1]))
want = sys.argv[2:]
names = {n["name"] for n in nodes if n.get("sync") in ("added", "changed",
                                                         "unchanged")}
missing = [w for w in want if w not in names]
if missing:
    sys.exit("no node %s in the cluster" % ", ".join(missing))
use = [n for n in nodes if n["name"] in (want or names)]
print(" ".join(n["name"] for n in nodes if n["name"] not in
               {u["name"] for u in use}))
print(sum(n["cpu_slots"] for n in use), sum(n["gpu_slots"] for n in use))
PY
    die "$(tail -n 1 "$work/plan")"
read -r -a drain <"$work/plan"
read -r cpu_slots gpu_slots < <(sed -n 2p "$work/plan")
for n in "${drain[@]}"; do
	orch node drain "$n" >/dev/null || die "cannot drain node $n"
done
[ "$cpu_slots" -gt 0 ] || die "the nodes offer no CPU slot"
say "nodes: $(python3 -c 'import json,sys; print(", ".join(
    "%s (%d CPU, %d GPU slots)" % (n["name"], n["cpu_slots"], n["gpu_slots"])
    for n in json.load(open(sys.argv[1]))))' "$work/nodes.json");" \
    "drained: ${drain[*]:-none}"

orch user add "$user" --kubernetes --unix-user "$unix_user" \
    ${nfs_server:+--nfs-server "$nfs_server" --nfs-path "$nfs_path"} \
    >/dev/null || die "cannot make the namespace${nfs_server:+, volume and claim} of '$user'"
as_account test -d "$uvol" -a -w "$uvol" ||
    die "$uvol is not a directory that $unix_user may write (make it as for any user)"

"$bin" pilot >"$work/pilot.log" 2>&1 &
pilot_pid=$!
# Its first cycle: `status` exits 0 once a pilot has run one.
until orch status >/dev/null 2>&1; do
	kill -0 "$pilot_pid" 2>/dev/null || die "the pilot exited"
	[ "$SECONDS" -lt 120 ] || die "the pilot ran no cycle in 120 s"
	sleep 0.2
done
say "pilot $pilot_pid started"

as_account mkdir -p "$indir" || die "cannot make $indir"
for i in $(seq 1 "$jobs"); do
	printf 'smoke input %s of %s\n' "$i" "$stamp" |
	    as_account tee "$indir/in-$i.txt" >/dev/null
done

# Each job copies its input to its output and adds where it ran and as
# whom; the GPU job adds what it was given.
cpu_task=smoke-cpu-$stamp gpu_task=smoke-gpu-$stamp
submit=(--inputs "$indir" ${image:+--image "$image"} --timeout 10m)
orch task submit "$cpu_task" "${submit[@]}" --exec \
    'cat %IN > %OUT/$(basename %IN).out && echo "uid $(id -u) host $(hostname)" >> %OUT/$(basename %IN).out' \
    >/dev/null || die "cannot submit the CPU task"
tasks=("$cpu_task")
if [ "$gpu_slots" -gt 0 ]; then
	orch task submit "$gpu_task" "${submit[@]}" --gpu --exec \
	    'cat %IN > %OUT/$(basename %IN).out && echo "gpu ${NVIDIA_VISIBLE_DEVICES:-${CUDA_VISIBLE_DEVICES:-none}}" >> %OUT/$(basename %IN).out' \
	    >/dev/null || die "cannot submit the GPU task"
	tasks+=("$gpu_task")
else
	say "no node offers nvidia.com/gpu: the GPU task is left out"
fi

say "waiting at most ${timeout}s for ${tasks[*]}"

status() {
	orch task show "$1" --json 2>/dev/null | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null
}
deadline=$((SECONDS + timeout))
for t in "${tasks[@]}"; do
	while :; do
		s=$(status "$t") || s=unknown
		case $s in
		done) break ;;
		broken | failed | killed | finalized)
			orch task show "$t" >&2 || true
			orch task show "$t" --status failed --json 2>/dev/null |
			    python3 -c 'import json,sys
for j in json.load(sys.stdin)["job_list"][:3]: print(j["index"])' \
			    2>/dev/null | while read -r j; do
				echo "kube-smoke: log of job $j:" >&2
				orch task logs "$t" "$j" --tail 20 >&2 || true
				echo >&2
			done || true
			die "task $t ended $s" ;;
		esac
		kill -0 "$pilot_pid" 2>/dev/null || die "the pilot exited"
		[ "$SECONDS" -lt "$deadline" ] ||
		    die "task $t still $s after ${timeout}s ($(orch queue 2>&1 | tail -n 3 | tr '\n' ' '))"
		sleep 1
	done
	say "task $t: done"
done

# Every job's output, as the job wrote it.
for t in "${tasks[@]}"; do
	for i in $(seq 1 "$jobs"); do
		f=$uvol/$t/in-$i.txt.out
		out=$(as_account cat "$f" 2>/dev/null) || die "no output $f"
		[ "$(printf '%s\n' "$out" | head -n 1)" = \
		    "smoke input $i of $stamp" ] || die "$f does not hold its input"
		line2=$(printf '%s\n' "$out" | sed -n 2p)
		case $t in
		"$cpu_task")
			[ "${line2%% host *}" = "uid $(id -u "$unix_user")" ] ||
			    die "job $i of $t ran as '${line2%% host *}', not as $unix_user" ;;
		*) [ -n "$line2" ] || die "$f says nothing of its GPU" ;;
		esac
	done
	say "task $t: $jobs outputs checked ($(printf '%s\n' "$out" | sed -n 2p))"
done

# Nothing left behind: the tasks and their files go at the pilot's next
# cycle; the pilot deletes each ended Job (ORCHESTRA_KUBE_CREATE_HOLD, 90
# s by default, after its create).
for t in "${tasks[@]}"; do
	orch task delete "$t" --remove-files >/dev/null ||
	    die "cannot delete task $t"
done
gone() {
	local t
	for t in "${tasks[@]}"; do
		! orch task show "$t" >/dev/null 2>&1 &&
		    ! as_account test -e "$uvol/$t" || return 1
	done
}
until gone; do
	kill -0 "$pilot_pid" 2>/dev/null || die "the pilot exited"
	[ "$SECONDS" -lt $((deadline + 60)) ] ||
	    die "the tasks or their files are still there after their delete"
	sleep 1
done
say "the tasks and their outputs are deleted"
if command -v kubectl >/dev/null; then
	left() {
		kubectl get jobs -n "$user" -o name \
		    -l app.kubernetes.io/managed-by=orchestra 2>/dev/null |
		    grep -c . || true
	}
	while [ "$(left)" != 0 ]; do
		kill -0 "$pilot_pid" 2>/dev/null || die "the pilot exited"
		[ "$SECONDS" -lt $((deadline + 240)) ] ||
		    die "Jobs left in namespace $user: $(left)"
		sleep 1
	done
	say "no Job of the smoke left in namespace $user"
else
	say "kubectl is not installed: the namespace's Jobs were not listed"
fi
kill -TERM "$pilot_pid"
wait "$pilot_pid" || die "the pilot exited $? on SIGTERM"
pilot_pid=
say "PASS: ${#tasks[@]} task(s) of $jobs jobs ran on the cluster and were cleaned up"
