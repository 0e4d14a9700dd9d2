#!/bin/bash
# t0205-kube-steady.sh - a steady cycle of the kubernetes backend asks the
# API server nothing, with 1 job running as with 40: the pilot keeps
# Orchestra's Jobs, their pods and the nodes in caches it lists once and
# then watches.  Counted in the simulator's request log between cycles the
# pilot logs (--verbose).

. "$(dirname "$0")/lib.sh"
kube_skip_unless_able
kube_one_node

pilot_start --interval 1 --verbose
pilot_wait_started

cycles() {
	grep -c 'cycle: ' "$PILOT_LOG" || :
}
cycles_at_least() { # N
	[ "$(cycles)" -ge "$1" ]
}
running() { # N jobs running, in the database and in the simulator
	[ "$(db_value "SELECT count(*) FROM job WHERE status = 'running'")" \
	    -eq "$1" ] && kube_state 'd["processes"] == '"$1"
}
requests() {
	wc -l <"$KUBE_SIM/requests.log"
}

# The requests (watches apart) made while 3 whole cycles ran, N running.
steady() { # N
	local from
	wait_until 60 running "$1"
	# One cycle more, to let the launching one end.
	wait_until 30 cycles_at_least $(($(cycles) + 1))
	from=$(requests)
	wait_until 30 cycles_at_least $(($(cycles) + 3))
	tail -n +$((from + 1)) "$KUBE_SIM/requests.log" | python3 -c '
import json, sys
n = sum(1 for l in sys.stdin if not json.loads(l).get("watch"))
print(n)'
}

seq -f "$TMP/in/%g" 1 40 >"$TMP/inputs40"
counts() {
	local one forty
	expect_exit 0 orch task submit one --skip-test --exec 'sleep 600'
	one=$(steady 1)
	expect_exit 0 orch task submit forty --skip-test \
	    --exec 'sleep 600 # %IN' --inputs "@$TMP/inputs39"
	forty=$(steady 40)
	echo "# requests in 3 steady cycles: $one with 1 job, $forty with 40"
	[ "$one" -eq 0 ] && [ "$forty" -eq 0 ] ||
	    fail "steady cycles made requests: $one (1 job), $forty (40 jobs)"
}
head -n 39 "$TMP/inputs40" >"$TMP/inputs39"
test_case "3 steady cycles make no request, with 1 job running or 40" counts

pilot_stop
