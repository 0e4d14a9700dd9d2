#!/bin/bash
# t0206-kube-launch-pace.sh - a big launch on a rate-limited API server is
# spread over cycles: one cycle spends at most about 0.75 s starting
# jobs (PILOT_START_BUDGET_MS), the jobs placed past it stay placed and
# the next cycles start them, each exactly once.  With the client held to
# 5 requests a second, 30 jobs take about 6 s to start: in one cycle, as
# before, that cycle would see no end and no submit for 6 s.  The kill
# of the 30 is spread the same way (PILOT_STOP_BUDGET_MS).

. "$(dirname "$0")/lib.sh"
kube_skip_unless_able

cat >"$TMP/nodes.json" <<'NODES'
[{"name": "node-a", "capacity": {"cpu": "64", "memory": "64Gi"}}]
NODES
kube_sim_start "$TMP/nodes.json"

kube_init
orch node add node-a --max-cpu-slots 64 --cpu-slots 64 >/dev/null

ORCHESTRA_KUBE_QPS=5 ORCHESTRA_KUBE_BURST=1 pilot_start --interval 1 --verbose
pilot_wait_started

running() { # N jobs running, in the database and in the simulator
	[ "$(db_value "SELECT count(*) FROM job WHERE status = 'running'")" \
	    -eq "$1" ] && kube_state 'd["processes"] == '"$1"
}

seq -f "$USER_VOL/in-%g" 1 30 >"$TMP/inputs"
expect_exit 0 orch task submit wide --skip-test --exec 'sleep 600 # %IN' \
    --inputs "@$TMP/inputs"
wait_until 120 running 30

# The cycles that launched, from the pilot's log: "N launched … took MS".
launches() {
	sed -n 's/.* cycle: \([0-9]*\) launched, .* took \([0-9.]*\) ms .*$/\1 \2/p' \
	    "$PILOT_LOG" | awk '$1 > 0'
}
spread() {
	launches >"$TMP/launches"
	sed 's/^/# launched, ms: /' "$TMP/launches"
	awk '{ n += $1; c++; if ($1 > max) max = $1 }
	    END { exit !(n == 30 && c >= 3 && max <= 15) }' "$TMP/launches" ||
	    fail "not spread over cycles of at most 15 starts"
}
test_case "30 starts at 5 requests/s: spread over cycles, 30 in all" spread

once_each() {
	# Each of the 30 Jobs was created once (the simulator counts).
	kube_state '[n for k, n in d["created"].items()
	    if k.startswith("jobs/")] == [1] * 30'
}
test_case "each Job created once" once_each

# The kill: 30 stops (a DELETE each) at 5 requests a second are spread
# over cycles too (PILOT_STOP_BUDGET_MS), each job stopped, none left.
kill_spread() {
	expect_exit 0 orch task kill wide
	wait_until 120 task_is wide killed
	wait_until 60 kube_state 'd["processes"] == 0'
	sed -n 's/.* cycle: .*, \([0-9]*\) stopped; .* took \([0-9.]*\) ms .*$/\1 \2/p' \
	    "$PILOT_LOG" | awk '$1 > 0' >"$TMP/stops"
	sed 's/^/# stopped, ms: /' "$TMP/stops"
	awk '{ c++; if ($1 > max) max = $1; if ($2 > ms) ms = $2 }
	    END { exit !(c >= 3 && max <= 15 && ms < 1500) }' "$TMP/stops" ||
	    fail "the stops not spread over cycles of at most 15 and 1.5 s"
}
test_case "30 stops at 5 requests/s: spread over cycles under 1.5 s" \
    kill_spread
pilot_stop
