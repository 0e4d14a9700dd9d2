# lib.sh - sourced by every tests/cli/tNNNN-*.sh script.
#
# Gives each script a private ORCHESTRA_HOME in a temporary directory
# (removed on exit), a config file of its own (so /etc is never read), the
# acting user "tester", and helpers in the spirit of git's test-lib:
#
#   test_case DESC CMD...     run CMD in a subshell under `set -e`; print
#                             "ok N - DESC" or "not ok N - DESC" (TAP)
#   test_skip DESC WHY        a case that cannot run here: "ok N - DESC
#                             # skip WHY"; the script then exits 77
#                             (skipped) unless a case failed
#   expect_exit CODE CMD...   run CMD, stdout/stderr to $OUT/$ERR; fail
#                             unless it exits with exactly CODE and without
#                             a sanitizer report
#   expect_stderr_line RE     stderr of the last expect_exit is exactly one
#                             line, matching the extended regex RE
#   expect_stderr_usage RE    stderr is one "orchestra: ..." line matching
#                             RE, then the "usage: orchestra ..." line
#                             (what a usage error, exit 2, prints)
#   expect_stderr_empty       stderr of the last expect_exit is empty
#   expect_stdout_contains S  stdout of the last expect_exit holds string S
#   expect_stdout_line RE     a line of that stdout matches the ERE RE
#   json_check PYEXPR         stdout of the last expect_exit is JSON `d` and
#                             the Python expression PYEXPR is true of it
#   ME                        the Unix account the tests run as: users
#                             whose jobs a test runs map to it
#                             (`user add NAME --unix-user "$ME"`), since a
#                             job runs as its owner's account
#   db_dump                   the database as SQL text (sqlite3 .dump, or
#                             pg_dump less sequence positions, which a
#                             rolled-back insert moves on PostgreSQL)
#   db_query SQL              run SQL, rows as "a|b" lines
#   on_pg                     true when the test runs on PostgreSQL
#   CHECK_FAILED_RE           what either database says of a CHECK refusal
#
# With ORCHESTRA_TEST_DB=pg (and ORCHESTRA_PG_DIR from the ctest fixture)
# the script runs on a database of its own on the test PostgreSQL server.
#   volume_dirs               every directory under $ORCHESTRA_HOME/volume
#   USER_VOL                  the acting user's directory of the volume,
#                             $ORCHESTRA_HOME/volume/tester (made by
#                             lib_backend_ready): besides its %OUT, the
#                             one place where every job of the user may
#                             write, on every backend (on Kubernetes the
#                             user's claim), so the jobs of the pilot's
#                             scenarios keep their records there
#   lib_user_volume NAME      make NAME's directory of the volume as
#                             `task submit` makes it (the volume's root
#                             0711, NAME's 0700), or as an admin makes
#                             NAME's NFS export for Kubernetes
#   wait_until SECS CMD...    poll CMD until it succeeds; fail after SECS
#   fail MSG                  fail the current test case (or the script)
#
# For the pilot and the local backend (the pilot's output goes to
# $PILOT_LOG; every helper below is safe to call with no pilot running):
#
#   pilot_start [ARGS]        start `orchestra pilot ARGS` in the background
#                             ($PILOT_PID); at exit it is stopped and every
#                             process left of its jobs killed.  Start and
#                             stop the pilot at the top level of the script,
#                             not in a test_case (a subshell)
#   pilot_wait_started        wait until the pilot logged that it started
#   pilot_wait_beat           ... and until its first cycle recorded its
#                             heartbeat (a pilot others see running)
#   pilot_stop                SIGTERM the pilot (once it started); fail
#                             unless it exits 0 without a sanitizer report
#   pilot_kill9               SIGKILL the pilot (a crash); $PILOT_RC is
#                             its exit status (137 unless it had exited)
#   db_value SQL              like db_query, waiting out a busy database
#   node_add_elsewhere ARGS   `node add ARGS` of a node that is not this
#                             machine (the local backend refuses one)
#   task_status NAME          the status of the acting user's task NAME
#   task_is NAME STATUS       its status is STATUS (for wait_until)
#   job_procs                 pids of the processes of supervisors and jobs
#                             of this $ORCHESTRA_HOME still alive
#   no_job_procs              there are none (for wait_until); on
#                             Kubernetes, the simulator runs no pod either
#
# With ORCHESTRA_TEST_BACKEND=kubernetes (the cli-kube/ tests) the pilot
# runs its jobs as Kubernetes Jobs on the API simulator
# (tests/kube/kube-sim.py, HTTPS with its own CA), whose only node is
# named after this machine (8 CPUs, 2 nvidia.com/gpu) and which runs each
# Job's command as a pod does: in a mount namespace of its own where only
# the system's directories (read-only) and the Job's volumes are, with the
# Job's environment only, in its workingDir and as its runAsUser and
# runAsGroup (the owner's account).  The script exits 77 (skipped) with
# "# skip: ..." when python3-kubernetes is missing or the simulator cannot
# give pods mount namespaces (not root).  KUBECONFIG, ORCHESTRA_BACKEND
# and ORCHESTRA_JOB_TEMPLATE are exported; the simulator is stopped at
# exit.  The job template ($TMP/job-template.yaml) is a lab's: the user's
# claim "volume" mounted at the user's directory of the volume
# ($ORCHESTRA_HOME/volume/<user>, where %OUT is), and the test's own
# files, $TMP, mounted read-only at $TMP (they stand for a lab's shared
# data set: a job reads its inputs and scripts there, and writes only
# under the user's directory).  Each user whose jobs run has a claim
# bound to an NFS volume (server sim.invalid) whose export is the user's
# directory of the volume: the simulator serves every export from the
# host's directory of its path.
#
#   on_kube                   true when the test runs on Kubernetes
#   lib_backend_ready         call after `orch init`: makes the acting
#                             user's directory of the volume, and on
#                             Kubernetes its namespace and claim
#   skip_all REASON           the whole script cannot run here: exit 77
#   kube_skip_unless_able     exit 77 with "# skip" without python3-kubernetes
#                             or when the simulator cannot run pods here
#   kube_sim_start [NODES]    (for the kubernetes-only scripts) start the
#                             simulator with the nodes of the JSON file
#                             NODES, exported as above; $KUBE_SIM holds its
#                             files (requests.log: a JSON line a request)
#   kube_init                 init, the acting user's namespace and NFS volume
#                             (kube_user_add), and this machine's node
#                             drained
#   kube_template_make        write the tests' job template again (the
#                             claim "volume", and $TMP mounted read-only
#                             at $TMP) and export ORCHESTRA_JOB_TEMPLATE
#   kube_user_add USER [ARGS] `user add USER --kubernetes` with an NFS
#                             volume of $ORCHESTRA_HOME/volume/USER (made)
#   kube_admin METHOD PATH [JSON]
#                             call the simulator's admin endpoint
#   kube_state PYEXPR         the simulator's admin GET /state is JSON `d`
#                             and PYEXPR is true of it
#   kube_jobs_made            the Jobs the pilot created, one JSON body a
#                             line, from the simulator's request log
#   kube_jobs_deleted TASK    the Job of every started job of the acting
#                             user's TASK was DELETEd with
#                             propagationPolicy=Background
#
# The script's exit status is non-zero when any test case failed, else 77
# (ctest: skipped) when any was skipped; the TAP plan ("1..N") is printed
# at the end.  A script that cannot run at all prints "# skip: WHY" and
# exits 77 itself; none prints "# skip" and exits 0 (lint/skip-code).

set -eu
set -o pipefail

if [ -z "${ORCHESTRA_BIN:-}" ]; then
	echo "Bail out! ORCHESTRA_BIN is not set (run through ctest)" >&2
	exit 1
fi
if [ ! -x "$ORCHESTRA_BIN" ]; then
	echo "Bail out! ORCHESTRA_BIN '$ORCHESTRA_BIN' is not executable" >&2
	exit 1
fi

TEST_NAME=$(basename "$0" .sh)
# shellcheck disable=SC2034 # for the scripts
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-$TEST_NAME.XXXXXX")

test_count=0
test_failed=0
test_skipped=0

# Functions run at exit, before $TMP is removed (see lib_at_exit).
lib_exit_hooks=""

lib_at_exit() {
	lib_exit_hooks="$lib_exit_hooks $1"
}

lib_finish() {
	status=$?
	for lib_hook in $lib_exit_hooks; do
		"$lib_hook" || :
	done
	# A failed case's pilot, for what a timeout alone does not say.
	if [ "$test_failed" -gt 0 ] && [ -s "${PILOT_LOG:-}" ]; then
		echo "# the pilot's log, its last 60 lines:"
		tail -n 60 "$PILOT_LOG" | sed 's/^/#   /'
	fi
	rm -rf "$TMP"
	echo "1..$test_count"
	if [ "$test_failed" -gt 0 ]; then
		echo "# failed $test_failed of $test_count test(s)"
		status=1
	elif [ "$status" -eq 0 ] && [ "$test_skipped" -gt 0 ]; then
		echo "# skipped $test_skipped of $test_count test(s)"
		status=77
	fi
	exit "$status"
}
trap lib_finish EXIT

# Nothing from the caller's environment may point us elsewhere.
unset ORCHESTRA_DB ORCHESTRA_VOLUME ORCHESTRA_URL ORCHESTRA_TOKEN \
    ORCHESTRA_BACKEND ORCHESTRA_LISTEN ORCHESTRA_RETENTION \
    ORCHESTRA_PRIORITY_RULE ORCHESTRA_JOB_TEMPLATE ORCHESTRA_SMTP_URL \
    ORCHESTRA_MAIL_FROM ORCHESTRA_MAIL_GIVE_UP ORCHESTRA_TEST_NOW_OFFSET \
    ORCHESTRA_SMTP_CA ORCHESTRA_MAIL_ALARM \
    ORCHESTRA_TEST_STORE_FAIL_AFTER ORCHESTRA_TEST_HOLD_ROUTE \
    ORCHESTRA_TEST_HOLD_FILE KUBECONFIG
# Every server of a test is on loopback: a proxy of the caller's would
# only send remote commands through libcurl instead of util/http.c (t0320
# checks which is loaded; its proxy case sets one itself).
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy \
    NO_PROXY
export ORCHESTRA_HOME="$TMP/home"
: >"$TMP/orchestra.conf"
export ORCHESTRA_CONF="$TMP/orchestra.conf"
export ORCHESTRA_USER=tester
ME=$(id -un)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LC_ALL=C

db="$ORCHESTRA_HOME/orchestra.db"
CHECK_FAILED_RE='CHECK constraint failed|violates check constraint'
on_pg() {
	[ "${ORCHESTRA_TEST_DB:-sqlite}" = pg ]
}
if on_pg; then
	ORCHESTRA_DB=$("$SRCDIR/tests/lib/pg-db.sh" cli) || {
		echo "Bail out! cannot make a PostgreSQL database" >&2
		exit 1
	}
	export ORCHESTRA_DB
	lib_pg_drop() {
		psql -X -q "$(cat "$ORCHESTRA_PG_DIR/url")" -c \
		    "DROP DATABASE IF EXISTS \"${ORCHESTRA_DB##*/}\" WITH (FORCE)" \
		    >/dev/null 2>&1
	}
	lib_at_exit lib_pg_drop
fi
OUT="$TMP/stdout"
ERR="$TMP/stderr"

orch() {
	"$ORCHESTRA_BIN" "$@"
}

fail() {
	echo "# FAIL: $*" >&2
	exit 1
}

# Quote a command for messages.
lib_show() {
	local s="" a
	for a in "$@"; do
		case $a in
		"" | *[!A-Za-z0-9_./=:@%+-]*)
			s="$s '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'" ;;
		*) s="$s $a" ;;
		esac
	done
	printf '%s' "${s# }"
}

lib_show_output() {
	if [ -s "$OUT" ]; then
		echo "# stdout:" >&2
		sed 's/^/#   /' "$OUT" | head -n 20 >&2
	fi
	if [ -s "$ERR" ]; then
		echo "# stderr:" >&2
		sed 's/^/#   /' "$ERR" | head -n 40 >&2
	fi
}

test_case() {
	local desc=$1 rc
	shift
	test_count=$((test_count + 1))
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		echo "ok $test_count - $desc"
	else
		echo "not ok $test_count - $desc"
		test_failed=$((test_failed + 1))
	fi
}

# The whole script cannot run here: say why and exit 77 (skipped).
skip_all() {
	echo "# skip: $1"
	exit 77
}

test_skip() {
	test_count=$((test_count + 1))
	test_skipped=$((test_skipped + 1))
	echo "ok $test_count - $1 # skip $2"
}

expect_exit() {
	local want=$1 rc
	shift
	"$@" >"$OUT" 2>"$ERR" && rc=0 || rc=$?
	if grep -Eq 'Sanitizer|runtime error:|LeakSanitizer' "$ERR"; then
		lib_show_output
		fail "$(lib_show "$@"): sanitizer report (exit $rc)"
	fi
	if [ "$rc" -ne "$want" ]; then
		lib_show_output
		fail "$(lib_show "$@"): exit $rc, expected exactly $want"
	fi
}

lib_lines() {
	# Lines in a file, counting an unterminated last line.
	awk 'END { print NR }' "$1"
}

expect_stderr_line() {
	local n
	n=$(lib_lines "$ERR")
	if [ "$n" -ne 1 ]; then
		lib_show_output
		fail "stderr has $n lines, expected exactly one"
	fi
	if ! grep -Eq -- "$1" "$ERR"; then
		lib_show_output
		fail "stderr does not match /$1/"
	fi
}

expect_stderr_usage() {
	local n
	n=$(lib_lines "$ERR")
	if [ "$n" -ne 2 ]; then
		lib_show_output
		fail "stderr has $n lines, expected a message and the usage"
	fi
	if ! head -n 1 "$ERR" | grep -q '^orchestra: ' ||
	    ! head -n 1 "$ERR" | grep -Eq -- "$1"; then
		lib_show_output
		fail "stderr's first line is not 'orchestra: ...' matching /$1/"
	fi
	if ! sed -n 2p "$ERR" | grep -q '^usage: orchestra '; then
		lib_show_output
		fail "stderr's second line is not the usage"
	fi
}

expect_stderr_empty() {
	if [ -s "$ERR" ]; then
		lib_show_output
		fail "stderr is not empty"
	fi
}

# A line of stdout matches the extended regular expression $1.
expect_stdout_line() {
	if ! grep -Eq -- "$1" "$OUT"; then
		lib_show_output
		fail "no line of stdout matches /$1/"
	fi
}

expect_stdout_contains() {
	if ! grep -Fq -- "$1" "$OUT"; then
		lib_show_output
		fail "stdout does not contain '$1'"
	fi
}

json_check() {
	if ! python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
if not eval("(" + sys.argv[2] + "\n)"):
    sys.exit(1)
' "$OUT" "$1"; then
		lib_show_output
		fail "JSON check failed: $1"
	fi
}

db_dump() {
	if on_pg; then
		# Less what differs between two dumps of the same data: the
		# sequence positions and pg_dump's \restrict keys.
		pg_dump --no-owner --no-privileges "$ORCHESTRA_DB" |
		    grep -v -E -e '^SELECT pg_catalog.setval' -e '^-- Dumped' \
		    -e '^\\(un)?restrict '
		return
	fi
	sqlite3 "$db" .dump
}

# One SQL value (or row, '|'-separated) from the database.
db_query() {
	if on_pg; then
		psql -X -q -A -t -F'|' -v ON_ERROR_STOP=1 "$ORCHESTRA_DB" \
		    -c "$1"
		return
	fi
	sqlite3 -cmd '.timeout 10000' "$db" "$1"
}

USER_VOL=$ORCHESTRA_HOME/volume/$ORCHESTRA_USER

lib_user_volume() {
	local vol=$ORCHESTRA_HOME/volume
	if [ ! -d "$vol" ]; then
		mkdir -p "$vol"
		chmod 0711 "$vol"
	fi
	if [ ! -d "$vol/$1" ]; then
		mkdir "$vol/$1"
		chmod 0700 "$vol/$1"
	fi
}

volume_dirs() {
	if [ -d "$ORCHESTRA_HOME/volume" ]; then
		find "$ORCHESTRA_HOME/volume" -type d | sort
	fi
}

wait_until() {
	local secs=$1 deadline
	shift
	deadline=$((SECONDS + secs))
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			fail "timed out after ${secs}s waiting for: $(lib_show "$@")"
		fi
		sleep 0.1
	done
}

# ---- the pilot --------------------------------------------------------------

PILOT_PID=""
PILOT_LOG="$TMP/pilot.log"

# shellcheck disable=SC2120 # the arguments are optional
pilot_start() {
	"$ORCHESTRA_BIN" pilot "$@" >>"$PILOT_LOG" 2>&1 &
	PILOT_PID=$!
}

lib_pilot_sanitizer_check() {
	if grep -Eq 'Sanitizer|runtime error:' "$PILOT_LOG" 2>/dev/null; then
		echo "# pilot log:" >&2
		sed 's/^/#   /' "$PILOT_LOG" | tail -n 40 >&2
		fail "sanitizer report in the pilot's log"
	fi
}

# The pilot $1 said it started (it handles SIGTERM from then on), or it
# is gone.
lib_pilot_started() {
	grep -q "pilot\[$1\]: pilot started" "$PILOT_LOG" 2>/dev/null ||
	    ! kill -0 "$1" 2>/dev/null
}

pilot_wait_started() {
	[ -z "$PILOT_PID" ] || wait_until 60 lib_pilot_started "$PILOT_PID"
}

lib_pilot_beat_written() {
	[ "$(db_value "SELECT count(*) FROM pilot_beat WHERE stopped_ms IS NULL")" = 1 ]
}

pilot_wait_beat() {
	pilot_wait_started
	wait_until 60 lib_pilot_beat_written
}

pilot_stop() {
	local pid=$PILOT_PID rc
	[ -n "$pid" ] || return 0
	# A SIGTERM before the pilot set up its handler would kill it.
	wait_until 60 lib_pilot_started "$pid"
	PILOT_PID=""
	kill -TERM "$pid" 2>/dev/null || :
	wait "$pid" && rc=0 || rc=$?
	lib_pilot_sanitizer_check
	if [ "$rc" -ne 0 ]; then
		sed 's/^/#   /' "$PILOT_LOG" | tail -n 20 >&2
		fail "the pilot exited $rc on SIGTERM, expected 0"
	fi
}

pilot_kill9() {
	local pid=$PILOT_PID
	PILOT_RC=""
	[ -n "$pid" ] || return 0
	PILOT_PID=""
	kill -KILL "$pid" 2>/dev/null || :
	wait "$pid" 2>/dev/null && PILOT_RC=0 || PILOT_RC=$?
}

# `node add` of a node this machine's local backend cannot run on (it
# refuses any name but this machine's): as the kubernetes backend takes
# it, for the tests of lists, queues and refusals that need a second node.
node_add_elsewhere() {
	ORCHESTRA_BACKEND=kubernetes "$ORCHESTRA_BIN" node add "$@"
}

db_value() {
	db_query "$1"
}

task_status() {
	db_value "SELECT t.status FROM task t JOIN account a ON a.id = t.account_id
	    WHERE a.username = '$ORCHESTRA_USER' AND t.name = '$1'"
}

task_is() {
	[ "$(task_status "$1")" = "$2" ]
}

# Supervisors run in sessions of their own, jobs in process groups below
# them: they are the processes outside this script's session that carry
# this ORCHESTRA_HOME in their environment.  The simulator's pods run in
# sessions of their own too, with the Job's environment only: their
# ORCHESTRA_OUT is under this ORCHESTRA_HOME.
job_procs() {
	local sid pid psid
	sid=$(ps -o sid= -p $$ | tr -d ' ')
	ps -eo pid=,sid= | while read -r pid psid; do
		[ "$psid" != "$sid" ] || continue
		[ "$pid" != "$PILOT_PID" ] || continue
		if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
		    awk -v home="ORCHESTRA_HOME=$ORCHESTRA_HOME" \
		    -v out="ORCHESTRA_OUT=$ORCHESTRA_HOME/" '
			$0 == home || index($0, out) == 1 { found = 1 }
			END { exit !found }'; then
			echo "$pid"
		fi
	done
}

no_job_procs() {
	[ -z "$(job_procs)" ] || return 1
	! on_kube || kube_state 'd["processes"] == 0'
}

# ---- the jobs' memory cgroups (local backend) --------------------------------

# cgroup_dir_logged, cgroup_tag_of, cgroup_pool_remove
. "$SRCDIR/scripts/cgroup-lib.sh"

# The directory the jobs' memory cgroups go under, as `orchestra doctor`
# says it (none where memory is not enforced; doctor fails on other
# checks of its own here).
cgroup_dir() {
	{ "$ORCHESTRA_BIN" doctor 2>&1 || :; } |
	    sed -n 's/^memory .*enforced (cgroup v[12] memory at \(.*\))$/\1/p'
}

# Skip the whole test where this machine enforces no memory (doctor's
# memory line says why; whether it does is known at run time only).
# Else CGDIR, the directory the jobs' cgroups go under, TAG, this home's
# (cgroup_tag), and CGROUP_KIND, v1 or v2.
lib_memory_enforced() {
	local line
	line=$({ "$ORCHESTRA_BIN" doctor 2>&1 || :; } | grep '^memory ' || :)
	case $line in
	*" OK "*"enforced (cgroup v1 "*) CGROUP_KIND=v1 ;;
	*" OK "*"enforced (cgroup v2 "*) CGROUP_KIND=v2 ;;
	*) skip_all "memory is not enforced here: $(sed 's/^memory *[-A-Z]* *//' <<<"$line")" ;;
	esac
	CGDIR=$(sed -n 's/^memory .*enforced (cgroup v[12] memory at \(.*\))$/\1/p' <<<"$line")
	TAG=$(cgroup_tag)
}

# The tag of this home's cgroups in it (src/backend/local.c,
# local_cgroup_tag).
cgroup_tag() {
	cgroup_tag_of "$ORCHESTRA_HOME"
}

# The cgroups of this home's pool outlive a pilot killed (or stopped
# while a job held one) and its jobs: a test
# removes them at its end, under the directory its pilot logged (doctor's
# where the test broke what the pilot logged: its configuration, its
# database).
lib_pool_cgroups_remove() {
	local dir
	compgen -G "$ORCHESTRA_HOME/jobs/cgroup-*.lock" >/dev/null || return 0
	dir=$(cgroup_dir_logged "$PILOT_LOG")
	[ -n "$dir" ] || dir=$(cgroup_dir)
	cgroup_pool_remove "$ORCHESTRA_HOME" "$dir"
}

lib_pilot_cleanup() {
	local pid
	if [ -n "$PILOT_PID" ]; then
		kill -TERM "$PILOT_PID" 2>/dev/null || :
		wait "$PILOT_PID" 2>/dev/null || :
		PILOT_PID=""
	fi
	for pid in $(job_procs); do
		kill -KILL "$pid" 2>/dev/null || :
	done
	lib_pool_cgroups_remove
}
lib_at_exit lib_pilot_cleanup

# ---- the kubernetes backend -------------------------------------------------

on_kube() {
	[ "${ORCHESTRA_TEST_BACKEND:-local}" = kubernetes ]
}

lib_backend_ready() {
	lib_user_volume "$ORCHESTRA_USER"
	! on_kube || kube_user_add "$ORCHESTRA_USER"
}

# Add user $1 (ARGS after it go to `user add`) with its namespace and an
# NFS volume whose export is its directory of the volume,
# $ORCHESTRA_HOME/volume/$1 (made here), bound to the claim "volume" that
# its pods mount at $ORCHESTRA_VOLUME/$1 (docs/kubernetes.md).
kube_user_add() {
	local user=$1
	shift
	lib_user_volume "$user"
	"$ORCHESTRA_BIN" user add "$user" --kubernetes \
	    --nfs-server sim.invalid --nfs-path "$ORCHESTRA_HOME/volume/$user" \
	    "$@" >/dev/null
}

# The tests' job template again (kube_sim_start writes it), for a script
# that changed it.
kube_template_make() {
	lib_kube_template >"$TMP/job-template.yaml"
	export ORCHESTRA_JOB_TEMPLATE=$TMP/job-template.yaml
}

# Exit 77 with "# skip" when the simulator cannot run here.
kube_skip_unless_able() {
	local why
	if ! python3 -c 'import kubernetes' 2>/dev/null &&
	    [ ! -d /usr/lib/python3/dist-packages/kubernetes ]; then
		echo "# skip: python3-kubernetes is not installed"
		exit 77
	fi
	if ! why=$(python3 "$SRCDIR/tests/kube/kube-sim.py" --check-pods 2>&1)
	then
		echo "# skip: the Kubernetes simulator cannot run pods here:" \
		    "$(echo "$why" | tail -n 1)"
		exit 77
	fi
}

# The job template of the tests (see above).  Until the backend mounts the
# claim at each owner's directory of the volume itself, the acting user's
# is written here.
lib_kube_template() {
	cat <<YAML
# The job template of a test on the simulator (tests/cli/lib.sh), as a
# lab's: the user's claim at the user's directory of the volume, and the
# test's files ($TMP), read-only, for a shared data set.
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
            - {name: data, mountPath: '$TMP', readOnly: true}
            - {name: volume, mountPath: '$USER_VOL'}
      volumes:
        - name: data
          hostPath: {path: '$TMP', type: Directory}
        - name: volume
          persistentVolumeClaim: {claimName: volume}
YAML
}

KUBE_SIM=$TMP/kube-sim
KUBE_SIM_PID=""

lib_kube_stop() {
	[ -n "$KUBE_SIM_PID" ] || return 0
	kill -TERM "$KUBE_SIM_PID" 2>/dev/null &&
	    wait "$KUBE_SIM_PID" 2>/dev/null
	if grep -q Traceback "$KUBE_SIM/stderr" 2>/dev/null; then
		echo "# simulator's stderr:" >&2
		sed 's/^/#   /' "$KUBE_SIM/stderr" | tail -n 40 >&2
	fi
	return 0
}

# The port file is written last, once the kubeconfig is.
lib_kube_up() {
	[ -s "$KUBE_SIM/port" ] || ! kill -0 "$KUBE_SIM_PID" 2>/dev/null
}

# Start the simulator with the nodes of the JSON file $1 (else its own
# default nodes; stopped at exit);
# export KUBECONFIG, ORCHESTRA_BACKEND and ORCHESTRA_JOB_TEMPLATE.
kube_sim_start() {
	mkdir -p "$KUBE_SIM"
	python3 "$SRCDIR/tests/kube/kube-sim.py" --state-dir "$KUBE_SIM/state" \
	    --port-file "$KUBE_SIM/port" \
	    --admin-port-file "$KUBE_SIM/admin-port" \
	    --kubeconfig-out "$KUBE_SIM/kubeconfig" \
	    --log "$KUBE_SIM/requests.log" \
	    ${1:+--nodes-file "$1"} \
	    >/dev/null 2>"$KUBE_SIM/stderr" &
	KUBE_SIM_PID=$!
	lib_at_exit lib_kube_stop
	wait_until 60 lib_kube_up
	if [ ! -s "$KUBE_SIM/port" ]; then
		sed 's/^/#   /' "$KUBE_SIM/stderr" >&2
		echo "Bail out! the Kubernetes simulator did not start" >&2
		exit 1
	fi
	lib_kube_template >"$TMP/job-template.yaml"
	export KUBECONFIG=$KUBE_SIM/kubeconfig ORCHESTRA_BACKEND=kubernetes
	export ORCHESTRA_JOB_TEMPLATE=$TMP/job-template.yaml
	# The simulator holds no create unless a test says so: ended Jobs
	# are deleted at once, not 90 s after their create as a real API
	# server needs (scripts with held creates set more).
	export ORCHESTRA_KUBE_CREATE_HOLD=${ORCHESTRA_KUBE_CREATE_HOLD:-0}
}

# For the kubernetes-only scripts, after kube_sim_start: `orchestra init`,
# the acting user's namespace, claim and directory of the volume, and this
# machine's node drained (it is not in the simulated cluster).
kube_init() {
	"$ORCHESTRA_BIN" init >/dev/null
	kube_user_add "$ORCHESTRA_USER"
	"$ORCHESTRA_BIN" node drain "$(hostname)" >/dev/null
}

# A cluster of one node, node-a (64 CPUs), in the simulator and in the
# store with 64 CPU slots, after kube_init.
kube_one_node() {
	cat >"$TMP/nodes.json" <<'NODES'
[{"name": "node-a", "capacity": {"cpu": "64", "memory": "64Gi"}}]
NODES
	kube_sim_start "$TMP/nodes.json"
	kube_init
	"$ORCHESTRA_BIN" node add node-a --max-cpu-slots 64 --cpu-slots 64 \
	    >/dev/null
}

# Call the simulator's admin endpoint: METHOD PATH [JSON]; its answer on
# stdout, non-zero unless 2xx.
kube_admin() {
	python3 - "$(cat "$KUBE_SIM/admin-port")" "$@" <<'PY'
import http.client, sys
port, method, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = sys.argv[4] if len(sys.argv) > 4 else None
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request(method, path, body, {"Content-Type": "application/json"})
r = c.getresponse()
print(r.read().decode())
sys.exit(0 if r.status < 300 else 1)
PY
}

if on_kube; then
	kube_skip_unless_able
	# One node, this machine (init registers it under its host name),
	# with the 2 GPUs t0106 gives it.
	mkdir -p "$KUBE_SIM"
	python3 - "$(hostname)" >"$TMP/kube-nodes.json" <<'PY'
import json, sys
print(json.dumps([{"name": sys.argv[1], "capacity": {
    "cpu": "8", "memory": "16Gi", "nvidia.com/gpu": "2"}}]))
PY
	kube_sim_start "$TMP/kube-nodes.json"
fi

kube_state() {
	python3 - "$(cat "$KUBE_SIM/admin-port")" "$1" <<'PY'
import json, sys, urllib.request
# Straight to loopback, whatever http_proxy says.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
d = json.load(opener.open(
    "http://127.0.0.1:%s/state" % sys.argv[1].strip(), timeout=10))
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)
PY
}

kube_jobs_made() {
	python3 - "$KUBE_SIM/requests.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["method"] == "POST" and r["path"].endswith("/jobs") and \
            isinstance(r.get("body"), dict):
        print(json.dumps(r["body"]))
PY
}

# Every started job of the acting user's task $1 had its Job (of its last
# attempt) DELETEd with propagationPolicy=Background.
kube_jobs_deleted() {
	local names
	names=$(db_value "SELECT 'orchestra-' || j.id || '-' || j.attempts
	    FROM job j JOIN task t ON t.id = j.task_id
	    JOIN account a ON a.id = t.account_id
	    WHERE a.username = '$ORCHESTRA_USER' AND t.name = '$1'
	    AND j.attempts > 0")
	[ -n "$names" ] || return 1
	# shellcheck disable=SC2086 # one argument a name
	python3 - "$KUBE_SIM/requests.log" $names <<'PY'
import json, sys
deleted = {r["path"].rsplit("/", 1)[1]
           for r in map(json.loads, open(sys.argv[1]))
           if r["method"] == "DELETE" and "/jobs/" in r["path"] and
           r["query"].get("propagationPolicy") == "Background"}
sys.exit(0 if set(sys.argv[2:]) <= deleted else 1)
PY
}

# ---- mail: a real SMTP server on loopback -----------------------------------
#
#   smtp_sink_start [ARGS]    start tests/lib/smtp-sink.py (aiosmtpd) on a
#                             free loopback port (the same port again after
#                             a stop), each message it takes a file in
#                             $SMTP_SINK/mail; export ORCHESTRA_SMTP_URL;
#                             the script exits 77 with "# skip" when
#                             python3-aiosmtpd is missing; ARGS go to the
#                             sink (--delay MS)
#   smtp_sink_stop            stop it (the server is away)
#   sink_mails                one line per message received, in order:
#                             "RCPT|SUBJECT|MESSAGE-ID|TO-HEADERS|BCC-HEADERS"
#                             (the subject decoded; RCPT every RCPT TO,
#                             comma-separated; *-HEADERS how many such
#                             header lines the message has)
#   sink_count N              exactly N messages were received

SMTP_SINK=$TMP/smtp-sink
SMTP_SINK_PID=""

lib_smtp_stop() {
	[ -n "$SMTP_SINK_PID" ] || return 0
	kill -TERM "$SMTP_SINK_PID" 2>/dev/null &&
	    wait "$SMTP_SINK_PID" 2>/dev/null
	SMTP_SINK_PID=""
	return 0
}
lib_at_exit lib_smtp_stop

lib_smtp_up() {
	[ -s "$SMTP_SINK/port" ] || ! kill -0 "$SMTP_SINK_PID" 2>/dev/null
}

smtp_sink_start() {
	local port=0
	if ! python3 -c 'import aiosmtpd' 2>/dev/null &&
	    [ ! -d /usr/lib/python3/dist-packages/aiosmtpd ]; then
		echo "# skip: python3-aiosmtpd is not installed"
		exit 77
	fi
	mkdir -p "$SMTP_SINK/mail"
	if [ -s "$SMTP_SINK/port" ]; then
		port=$(cat "$SMTP_SINK/port")
		rm -f "$SMTP_SINK/port"
	fi
	python3 "$SRCDIR/tests/lib/smtp-sink.py" --dir "$SMTP_SINK/mail" \
	    --port-file "$SMTP_SINK/port" --port "$port" "$@" \
	    >>"$SMTP_SINK/log" 2>&1 &
	SMTP_SINK_PID=$!
	wait_until 30 lib_smtp_up
	[ -s "$SMTP_SINK/port" ] || {
		sed 's/^/#   /' "$SMTP_SINK/log" >&2
		echo "Bail out! the SMTP sink did not start" >&2
		exit 1
	}
	ORCHESTRA_SMTP_URL="smtp://127.0.0.1:$(cat "$SMTP_SINK/port")"
	export ORCHESTRA_SMTP_URL
}

smtp_sink_stop() {
	lib_smtp_stop
}

sink_mails() {
	python3 - "$SMTP_SINK/mail" <<'PY'
import email, email.header, email.policy, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if not f.endswith('.eml'):
        continue
    raw = open(os.path.join(d, f), 'rb').read()
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    rcpt = ','.join(v.strip('<>') for v in m.get_all('X-Sink-Rcpt-To', []))
    subj = str(email.header.make_header(email.header.decode_header(
        m.get('Subject', ''))))
    print('|'.join([rcpt, subj.replace('\r', '\\r').replace('\n', '\\n'),
                    m.get('Message-ID', ''), str(len(m.get_all('To', []))),
                    str(len(m.get_all('Bcc', [])))]))
PY
}

sink_count() {
	[ "$(find "$SMTP_SINK/mail" -name '*.eml' 2>/dev/null | wc -l)" -eq "$1" ]
}
