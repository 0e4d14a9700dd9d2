# proc-lib.sh - what scripts/torture.sh and bench/bench-kube.sh share,
# sourced: stopping a process of theirs, and waiting on a condition while
# the processes they started stay up.  The caller defines die(), and sets
# `sim` and `sim_log` while the Kubernetes simulator runs, and
# `watch_pilot=1` to have its pilot (`pilot`, `pilot_log`) watched too
# (not where pilots are killed on purpose).

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

# Poll CMD until it succeeds; fail after SECS seconds, or at once when
# the simulator (or a watched pilot) died meanwhile.
wait_for() { # SECS WHAT CMD...
	local secs=$1 what=$2 end=$((SECONDS + $1))
	shift 2
	until "$@"; do
		[ $SECONDS -lt $end ] || die "timed out after $secs s: $what"
		[ -z "${sim:-}" ] || kill -0 "$sim" 2>/dev/null ||
		    die "the simulator died: $(tail -5 "$sim_log")"
		[ "${watch_pilot:-0}" != 1 ] || [ -z "${pilot:-}" ] ||
		    kill -0 "$pilot" 2>/dev/null ||
		    die "the pilot died: $(tail -5 "$pilot_log")"
		sleep 0.05
	done
}
