#!/bin/bash
# t0123-pilot-admin-sql.sh - a change to the node table made with SQL (an
# admin's UPDATE from the sqlite3 shell or psql) wakes the pilot at once,
# as `orchestra node set` does: the triggers of migration 0013 move
# notify_seq (SQLite) or send NOTIFY (PostgreSQL).  The pilot sleeps up
# to its period (60 s here); the job must start within 5 s.  The pilot's
# own writes to node (health, counts) do not wake it.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
NODE=$(hostname)
orch node set "$NODE" --cpu-slots 0 >/dev/null
orch task submit sqlwake --skip-test --exec 'true' >/dev/null

pilot_start --interval 60
pilot_wait_started
# The pilot has seen the task and found no slot: it sleeps.
wait_until 60 eval '[ "$(db_value "SELECT status FROM job")" = assigned ]'

held_or_done() {
	[ "$(db_value "SELECT count(*) FROM job
	    WHERE status IN ('pending', 'running', 'done')")" -eq 1 ]
}

sql_wakes() {
	db_query "UPDATE node SET cpu_slots = 1 WHERE name = '$NODE'" \
	    >/dev/null
	wait_until 5 held_or_done
}
test_case "an UPDATE of cpu_slots by SQL starts the job within 5 s" sql_wakes
test_case "the job ends done" wait_until 60 task_is sqlwake done

# A node drained by SQL and resumed by SQL: the next task waits, then runs.
second_job() {
	db_value "SELECT j.status FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = 'second'"
}
drained() {
	db_query "UPDATE node SET enabled = 0 WHERE name = '$NODE'" >/dev/null
	orch task submit second --skip-test --exec 'true' >/dev/null
	wait_until 60 eval '[ "$(second_job)" = assigned ]'
	db_query "UPDATE node SET enabled = 1 WHERE name = '$NODE'" >/dev/null
	wait_until 5 task_is second done
}
test_case "drained and resumed by SQL: the waiting job starts within 5 s" drained

pilot_stop
