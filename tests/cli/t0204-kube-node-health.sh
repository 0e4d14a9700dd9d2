#!/bin/bash
# t0204-kube-node-health.sh - node health from the Kubernetes node
# conditions: a node turned not ready (or under memory or disk pressure) in
# the simulator gets no new job within a cycle, keeps the jobs it runs,
# gives one event and one mail to every admin (on a real SMTP server on
# loopback), and gets jobs again once it recovers (one mail more).

. "$(dirname "$0")/lib.sh"
kube_skip_unless_able

cat >"$TMP/nodes.json" <<'NODES'
[{"name": "node-a", "capacity": {"cpu": "8", "memory": "16Gi"}},
 {"name": "node-b", "capacity": {"cpu": "8", "memory": "16Gi"}}]
NODES
kube_sim_start "$TMP/nodes.json"

kube_init
# node-a alone takes jobs (node-b is drained): when it is unhealthy, a
# job waits.
orch node add node-a --max-cpu-slots 6 --cpu-slots 6 >/dev/null
orch node add node-b --max-cpu-slots 2 --cpu-slots 2 >/dev/null
orch node drain node-b >/dev/null

# Who hears of node health: the admins with an address and mail on.
smtp_sink_start
orch user set tester --email tester@lab.example >/dev/null
orch user add root2 --admin --email root2@lab.example >/dev/null
orch user add quiet --admin --email quiet@lab.example --mail off >/dev/null
orch user add ursula --email ursula@lab.example >/dev/null

# Jobs on a node, by status.
on_node() { # NODE STATUS
	db_value "SELECT count(*) FROM job j JOIN node n ON n.id = j.node_id
	    WHERE n.name = '$1' AND j.status = '$2'"
}
running_on() { # NODE N
	[ "$(on_node "$1" running)" -eq "$2" ]
}
health_events() { # NODE NEW_STATUS
	db_value "SELECT count(*) FROM event e JOIN node n ON n.id = e.node_id
	    WHERE e.kind = 'node' AND n.name = '$1' AND e.new_status = '$2'"
}
is_unhealthy() { # NODE
	[ "$(health_events "$1" unhealthy)" -ge 1 ]
}
unhealthy_events() { # NODE N
	[ "$(health_events "$1" unhealthy)" -ge "$2" ]
}
is_healthy_again() { # NODE N: N events back to healthy
	[ "$(health_events "$1" healthy)" -ge "$2" ]
}

# A cycle reads every node's health first (node.last_seen_ms): N cycles
# began after now, each after the one before had ended.
now_ms() {
	python3 -c 'import time; print(int(time.time() * 1000))'
}
seen_after() { # MS
	[ "$(db_value "SELECT last_seen_ms FROM node
	    WHERE name = 'node-a'")" -gt "$1" ]
}
cycles_pass() { # N
	local i t
	for i in $(seq "$1"); do
		t=$(now_ms)
		wait_until 30 seen_after "$t"
	done
}

pilot_start --interval 1
pilot_wait_started

# node-a runs 2 long jobs of its 6 slots.
printf '%s\n' "$TMP/in/1" "$TMP/in/2" >"$TMP/inputs"
orch task submit first --skip-test --exec 'sleep 600 # %IN' \
    --inputs "@$TMP/inputs" >/dev/null
wait_until 60 running_on node-a 2

# A condition of node-a turns bad; then a task wants node-a's free slots.
turn_bad() { # BODY WHAT
	local n_running
	expect_exit 0 kube_admin POST /nodes/node-a "$1"
	wait_until 30 is_unhealthy node-a
	expect_exit 0 orch node list --json
	json_check '[n for n in d if n["name"] == "node-a"][0]["ready"] is False'
	n_running=$(on_node node-a running)
	expect_exit 0 orch task submit "$2" --skip-test --exec 'sleep 600'
	# Two cycles begin after the submit: the first placed what it could.
	cycles_pass 2
	[ "$(on_node node-a running)" -eq "$n_running" ] ||
	    fail "node-a got a job while $2"
	[ "$(on_node node-a pending)" -eq 0 ] || fail "a job was placed on node-a"
	expect_exit 0 orch task show "$2" --json
	json_check 'd["counts"].get("running", 0) == 0'
	# The jobs it ran go on.
	running_on node-a 2 || fail "node-a's jobs stopped"
	[ "$(health_events node-a unhealthy)" -eq 1 ] ||
	    fail "$(health_events node-a unhealthy) events for one change"
}

not_ready() {
	turn_bad '{"ready": false}' while-not-ready
}
test_case "a node not ready: no new job, its jobs go on, one event" not_ready

recovers() { # TASK N: node-a healthy again (N times), TASK runs there
	expect_exit 0 kube_admin POST /nodes/node-a \
	    '{"ready": true, "memoryPressure": false, "diskPressure": false}'
	wait_until 30 is_healthy_again node-a "$2"
	wait_until 30 task_is "$1" running
	wait_until 30 running_on node-a "$(($2 + 2))"
}
test_case "recovered, it gets the waiting job" recovers while-not-ready 1

pressure() { # CONDITION FIELD: the simulator's, and node list's
	# An event a change: the one before is counted as the start.
	local before
	before=$(health_events node-a unhealthy)
	expect_exit 0 kube_admin POST /nodes/node-a "{\"$1\": true}"
	wait_until 30 unhealthy_events node-a $((before + 1))
	cycles_pass 1
	[ "$(health_events node-a unhealthy)" -eq $((before + 1)) ] ||
	    fail "not one event"
	expect_exit 0 orch node list --json
	json_check '[n for n in d if n["name"] == "node-a"][0]["'"$2"'"] is True'
	n_running=$(on_node node-a running)
	expect_exit 0 orch task submit "under-$1" --skip-test --exec 'sleep 600'
	cycles_pass 2
	[ "$(on_node node-a running)" -eq "$n_running" ] ||
	    fail "node-a got a job under $1"
	[ "$(on_node node-a pending)" -eq 0 ] || fail "a job was placed on node-a"
}
test_case "under memory pressure: no new job" pressure memoryPressure \
    memory_pressure
test_case "recovered, it gets the waiting job" recovers under-memoryPressure 2
test_case "under disk pressure: no new job" pressure diskPressure \
    disk_pressure
test_case "recovered, it gets the waiting job" recovers under-diskPressure 3

# Three turns each way, each mailed once to each of the two admins.
wait_until 60 sink_count 12
mails_to_admins() {
	sink_mails | cut -d'|' -f1,2 >"$TMP/got"
	for turn in 1 2 3; do
		for what in unhealthy recovered; do
			for who in root2 tester; do
				echo "$who@lab.example|[orchestra] node node-a $what"
			done
		done
	done >"$TMP/want"
	sort "$TMP/want" >"$TMP/want.sorted"
	sort "$TMP/got" >"$TMP/got.sorted"
	diff -u "$TMP/want.sorted" "$TMP/got.sorted" >&2 ||
	    fail "the mails differ"
	# In order: unhealthy, recovered, unhealthy …
	awk -F'|' '{ split($2, w, " "); print w[4] }' "$TMP/got" | uniq |
	    tr '\n' ' ' | grep -qx 'unhealthy recovered unhealthy recovered unhealthy recovered ' ||
	    fail "not in turn: $(awk -F'|' '{ print $2 }' "$TMP/got")"
}
test_case "every turn mailed once to every admin, in order" mails_to_admins

pilot_stop
