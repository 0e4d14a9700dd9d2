#!/bin/bash
# t0002-init-users-nodes.sh - `orchestra init` (twice: the second run
# changes nothing), `user add|list|show|set` and `node
# add|list|set|drain|resume` with --json, slot maxima, and the database's
# CHECK constraint refusing an SQL UPDATE above max_cpu_slots.

. "$(dirname "$0")/lib.sh"

init_first() {
	expect_exit 0 orch init --json
	json_check 'd["created_admin"] and
	    d["created_node"] and d["admin"] == "tester" and
	    d["cpu_slots"] >= 1 and d["cpu_slots"] <= 30 and d["gpus"] >= 0'
	# A server's database exists before init (its admin makes it).
	if on_pg; then
		json_check 'not d["created_database"]'
	else
		json_check 'd["created_database"]'
		[ -f "$db" ] || fail "no database at $db"
	fi
	[ "$(db_query "SELECT role FROM account WHERE username='tester'")" = admin ] ||
	    fail "tester is not an admin"
	[ "$(db_query "SELECT count(*) FROM node")" = 1 ] ||
	    fail "init did not register exactly one node"
}
test_case "init creates the database, the admin and this node" init_first

NODE0=$(db_query "SELECT name FROM node")

init_again() {
	local before
	before=$(db_dump)
	expect_exit 0 orch init --json
	json_check 'not d["created_database"] and not d["created_admin"] and
	    not d["created_node"]'
	[ "$(db_dump)" = "$before" ] || fail "second init changed the database"
	expect_exit 0 orch init
	expect_stdout_contains " ready"
	[ "$(db_dump)" = "$before" ] || fail "third init changed the database"
}
test_case "init again adds nothing (identical dump)" init_again

init_other_admin() {
	expect_exit 0 orch --user root2 init --json
	json_check 'd["admin"] == "root2" and d["created_admin"] and
	    not d["created_node"]'
	[ "$(db_query "SELECT role FROM account WHERE username='root2'")" = admin ] ||
	    fail "root2 is not an admin"
}
test_case "init --user U makes U an admin too" init_other_admin

user_add() {
	expect_exit 0 orch user add bob --email bob@example.org --priority 500 --json
	expect_stderr_empty
	json_check 'd["username"] == "bob" and d["email"] == "bob@example.org"
	    and d["max_priority"] == 500 and d["role"] == "user"
	    and isinstance(d["id"], int) and d["created"].endswith("Z")'
	expect_exit 0 orch user add carol --admin
	expect_stdout_contains "added user 'carol' (admin, priority 1000)"
	[ "$(db_query "SELECT email, max_priority, role FROM account WHERE username='bob'")" = \
	    "bob@example.org|500|user" ] || fail "account row of bob"
}
test_case "user add (--json, --admin, defaults)" user_add

user_list_show() {
	expect_exit 0 orch user list --json
	json_check 'sorted(u["username"] for u in d) ==
	    ["bob", "carol", "root2", "tester"]'
	json_check '[u for u in d if u["username"] == "carol"][0]["role"] == "admin"'
	expect_exit 0 orch user show bob --json
	json_check 'd["username"] == "bob" and d["max_priority"] == 500'
	expect_exit 0 orch user list
	expect_stdout_contains "bob@example.org"
	expect_exit 0 orch user show carol
	expect_stdout_contains "role:         admin"
}
test_case "user list and show" user_list_show

user_set() {
	expect_exit 0 orch user set bob --priority 700 --role admin \
	    --email robert@example.org --json
	json_check 'd["username"] == "bob" and d["max_priority"] == 700 and
	    d["role"] == "admin" and d["email"] == "robert@example.org"'
	expect_exit 0 orch user show bob --json
	json_check 'd["max_priority"] == 700 and d["role"] == "admin"'
	expect_exit 0 orch user set bob --role user --email ''
	expect_exit 0 orch user show bob --json
	json_check 'd["role"] == "user" and d["email"] == ""'
	[ "$(db_query "SELECT count(*) FROM event WHERE kind='account' AND new_status='changed'")" = 2 ] ||
	    fail "user set did not record one event each"
}
test_case "user set changes email, priority and role" user_set

# SPEC: init makes the acting user an admin, an existing user too.
init_makes_admin() {
	expect_exit 0 orch --user bob init --json
	json_check 'd["admin"] == "bob" and not d["created_admin"] and
	    d["made_admin"]'
	[ "$(db_query "SELECT role, max_priority FROM account WHERE username='bob'")" = \
	    "admin|700" ] || fail "bob is not an admin, or lost its priority"
	[ "$(db_query "SELECT count(*) FROM event WHERE kind='account' AND new_status='changed'")" = 3 ] ||
	    fail "init did not record the change"
	expect_exit 0 orch --user bob init
	expect_stdout_contains "user 'bob' is an admin (already)"
	expect_exit 0 orch user set bob --role user
	expect_exit 0 orch --user bob init
	expect_stdout_contains "user 'bob' is an admin (it was a user)"
	expect_exit 0 orch user set bob --role user
}
test_case "init makes an existing user an admin" init_makes_admin

node_add() {
	expect_exit 0 node_add_elsewhere n1 --json
	json_check 'd["name"] == "n1" and d["queue"] == "default" and
	    d["cpu_slots"] == 30 and d["max_cpu_slots"] == 30 and
	    d["gpu_slots"] == 0 and d["max_gpu_slots"] == 0 and
	    d["enabled"] and d["cpu_used"] == 0'
	expect_exit 0 node_add_elsewhere g1 --queue gpu --max-cpu-slots 8 \
	    --max-gpu-slots 4 --json
	json_check 'd["queue"] == "gpu" and d["cpu_slots"] == 8 and
	    d["gpu_slots"] == 4 and d["max_gpu_slots"] == 4'
	expect_exit 0 node_add_elsewhere n2 --cpu-slots 3 --gpu-slots 0
	# No pilot has run: its health is not known (t0122).
	expect_stdout_contains "node 'n2' (queue default, unknown (no pilot)): cpu 0/3 slots (max 30)"
	[ "$(db_query "SELECT cpu_slots, max_cpu_slots, gpu_slots, max_gpu_slots FROM node WHERE name='g1'")" = \
	    "8|8|4|4" ] || fail "node row of g1"
}
test_case "node add: unset slots default to their maximum" node_add

node_add_local() {
	local before
	before=$(db_dump)
	expect_exit 1 orch node add n3 --cpu-slots 3
	expect_stderr_line "^orchestra: node 'n3' is not this machine \('$NODE0'\): the local backend runs jobs on this machine only$"
	[ "$(db_dump)" = "$before" ] || fail "a refused node add changed the database"
}
test_case "node add: the local backend refuses a node other than this machine" node_add_local

node_list() {
	expect_exit 0 orch node list --json
	json_check "sorted(n['name'] for n in d) == sorted(['$NODE0', 'n1', 'n2', 'g1'])"
	expect_exit 0 orch node list
	expect_stdout_contains "0/8 (max 8)"
}
test_case "node list" node_list

node_set() {
	expect_exit 0 orch node set n1 --cpu-slots 5 --json
	json_check 'd["cpu_slots"] == 5 and d["max_cpu_slots"] == 30'
	expect_exit 0 orch node set n1 --max-cpu-slots 5 --queue q2 --json
	json_check 'd["cpu_slots"] == 5 and d["max_cpu_slots"] == 5 and
	    d["queue"] == "q2"'
	expect_exit 0 orch node set n1 --cpu-slots 0
	[ "$(db_query "SELECT cpu_slots, max_cpu_slots, queue FROM node WHERE name='n1'")" = \
	    "0|5|q2" ] || fail "node row of n1"
	expect_exit 0 orch node set g1 --gpu-slots 2 --json
	json_check 'd["gpu_slots"] == 2 and d["max_gpu_slots"] == 4'
}
test_case "node set changes slots, maxima and queue" node_set

node_set_above_max() {
	local before
	before=$(db_dump)
	expect_exit 1 orch node set n1 --cpu-slots 6
	expect_stderr_line "^orchestra: node 'n1': cpu-slots 6 above max-cpu-slots 5$"
	expect_exit 1 orch node set g1 --gpu-slots 5
	expect_stderr_line "^orchestra: node 'g1': gpu-slots 5 above max-gpu-slots 4$"
	expect_exit 1 orch node set g1 --max-cpu-slots 7
	expect_stderr_line "cpu-slots 8 above max-cpu-slots 7"
	[ "$(db_dump)" = "$before" ] || fail "a refused node set changed the database"
}
test_case "node set above the maxima is refused (exit 1)" node_set_above_max

node_drain_resume() {
	expect_exit 0 orch node drain n2 --json
	json_check 'd["name"] == "n2" and not d["enabled"]'
	[ "$(db_query "SELECT enabled FROM node WHERE name='n2'")" = 0 ] ||
	    fail "n2 is not drained in the database"
	expect_exit 0 orch node list
	grep -Eq '^n2 +default +drained ' "$OUT" || fail "node list does not show n2 drained"
	expect_exit 0 orch node drain n2 --json
	json_check 'not d["enabled"]'
	expect_exit 0 orch node resume n2 --json
	json_check 'd["enabled"]'
	[ "$(db_query "SELECT enabled FROM node WHERE name='n2'")" = 1 ] ||
	    fail "n2 is not resumed in the database"
	[ "$(db_query "SELECT new_status FROM event WHERE kind='node' AND node_id=(SELECT id FROM node WHERE name='n2') ORDER BY id" | paste -sd,)" = \
	    "added,drained,resumed" ] || fail "node events of n2"
}
test_case "node drain and resume (drain twice is harmless)" node_drain_resume

sql_check_constraint() {
	local before rc
	before=$(db_query "SELECT * FROM node WHERE name='n2'")
	db_query "UPDATE node SET cpu_slots=99 WHERE name='n2'" \
	    2>"$ERR" && rc=0 || rc=$?
	[ "$rc" -ne 0 ] || fail "UPDATE cpu_slots=99 was accepted"
	grep -qE "$CHECK_FAILED_RE" "$ERR" || fail "not refused by a CHECK: $(cat "$ERR")"
	db_query "UPDATE node SET gpu_slots=1 WHERE name='n2'" \
	    2>"$ERR" && rc=0 || rc=$?
	[ "$rc" -ne 0 ] || fail "UPDATE gpu_slots above max_gpu_slots was accepted"
	db_query "UPDATE node SET max_cpu_slots=2 WHERE name='n2'" \
	    2>"$ERR" && rc=0 || rc=$?
	[ "$rc" -ne 0 ] || fail "UPDATE max_cpu_slots below cpu_slots was accepted"
	[ "$(db_query "SELECT * FROM node WHERE name='n2'")" = "$before" ] ||
	    fail "the node row changed"
	# Within the maxima an admin's UPDATE is fine, and the CLI sees it.
	db_query "UPDATE node SET cpu_slots=30 WHERE name='n2'"
	expect_exit 0 orch node list --json
	json_check '[n for n in d if n["name"] == "n2"][0]["cpu_slots"] == 30'
}
test_case "SQL UPDATE above max_cpu_slots is refused by the CHECK" \
    sql_check_constraint
