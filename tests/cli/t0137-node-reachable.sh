#!/bin/bash
# t0137-node-reachable.sh - the local backend runs every job on this
# machine, so a node of another name that is in the table anyway (`node
# add` refuses one, but an admin's SQL, an older version or a pilot moved
# to another host leaves one) is marked unreachable at the pilot's next
# cycle and gets no job: never a job that claims a node it did not run
# on.  `node list`, `status` and the API say so; a node the backend
# reports again takes jobs again.  Each step is one `pilot --once`.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
NODE=$(db_query "SELECT name FROM node")
orch node set "$NODE" --cpu-slots 1 >/dev/null
# More free slots than this machine: placement would pick it first.
db_query "INSERT INTO node (name, cpu_slots, max_cpu_slots, created_ms)
    VALUES ('elsewhere', 4, 30, 1700000000000)"
printf '/a\n/b\n/c\n/d\n' >"$TMP/four"
orch task submit four --skip-test --exec 'true %IN' \
    --inputs "@$TMP/four" >/dev/null

once() {
	"$ORCHESTRA_BIN" pilot --once 2>>"$TMP/pilot-once.log"
}
jobs_on() { # NODE: jobs of the table placed on NODE, ever
	db_value "SELECT count(*) FROM job j JOIN node n ON n.id = j.node_id
	    WHERE n.name = '$1'"
}

first_cycle() {
	once
	[ "$(jobs_on elsewhere)" = 0 ] || fail "a job placed on elsewhere"
	[ "$(jobs_on "$NODE")" = 1 ] || fail "not 1 job on $NODE"
	grep -q "node elsewhere is unreachable: the local backend does not run jobs on it" \
	    "$TMP/pilot-once.log" || fail "no log line: $(cat "$TMP/pilot-once.log")"
	[ "$(db_value "SELECT count(*) FROM event e JOIN node n
	    ON n.id = e.node_id WHERE n.name = 'elsewhere'
	    AND e.new_status = 'unhealthy' AND e.detail LIKE 'unreachable%'")" = 1 ] ||
	    fail "no event for elsewhere"
}
test_case "the first cycle marks the other node unreachable, places nothing there" first_cycle

shown() {
	expect_exit 0 orch node list
	# With no pilot this machine's health is not known; unreachable is.
	expect_stdout_line "^elsewhere +default +unreachable "
	expect_stdout_line "^$NODE +default +unknown \(no pilot\) "
	expect_exit 0 orch node list --json
	json_check "sorted((n['name'], n['reachable'], n['ready']) for n in d)
	    == sorted([('elsewhere', False, False), ('$NODE', True, True)])"
	expect_exit 3 orch status
	expect_stdout_line "^nodes: +2: 1 ready, 0 unhealthy, 1 \(elsewhere\) unreachable, 0 drained$"
	expect_exit 3 orch status --json
	json_check "d['nodes']['unreachable'] == ['elsewhere']"
}
test_case "node list and status show it unreachable" shown

all_done() { # TASK
	once
	task_is "$1" done
}
ran_here() {
	wait_until 60 all_done four
	[ "$(jobs_on elsewhere)" = 0 ] || fail "a job placed on elsewhere"
	[ "$(db_value "SELECT count(*) FROM job_history WHERE node = '$NODE'")" = 4 ] ||
	    fail "not 4 runs on $NODE"
	[ "$(db_value "SELECT count(*) FROM job_history
	    WHERE node <> '$NODE'")" = 0 ] || fail "a run on another node"
	# Marked once: no event or log line at every cycle.
	[ "$(db_value "SELECT count(*) FROM event e JOIN node n
	    ON n.id = e.node_id WHERE n.name = 'elsewhere'")" = 1 ] ||
	    fail "more than one event for elsewhere"
	[ "$(grep -c 'node elsewhere is unreachable' "$TMP/pilot-once.log")" = 1 ] ||
	    fail "logged more than once"
}
test_case "every job runs here, on this machine's node" ran_here

# The pilot moved: this machine's node row now bears another name.
moved() {
	db_query "UPDATE node SET name = 'oldhost' WHERE name = '$NODE'"
	orch task submit moved --skip-test --exec 'true %IN' \
	    --inputs "@$TMP/four" >/dev/null
	once
	once
	[ "$(db_value "SELECT count(*) FROM job j JOIN task t
	    ON t.id = j.task_id WHERE t.name = 'moved'
	    AND j.node_id IS NOT NULL")" = 0 ] || fail "a job placed"
	expect_exit 0 orch node list
	expect_stdout_line "^oldhost +default +unreachable "
	expect_exit 0 orch task show moved
	expect_stdout_contains "unhealthy"
}
test_case "a node of another host gets no job" moved

back() {
	db_query "UPDATE node SET name = '$NODE' WHERE name = 'oldhost'"
	wait_until 60 all_done moved
	expect_exit 0 orch node list --json
	json_check "[(n['reachable'], n['ready']) for n in d
	    if n['name'] == '$NODE'] == [(True, True)]"
	[ "$(db_value "SELECT count(*) FROM job_history
	    WHERE node <> '$NODE'")" = 0 ] || fail "a run on another node"
}
test_case "reported again, it is reachable and takes jobs" back
