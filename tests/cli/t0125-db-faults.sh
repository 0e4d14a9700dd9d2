#!/bin/bash
# t0125-db-faults.sh - a database that is not what it should be is
# refused, and the refusal writes nothing: an empty database (a 0-byte
# SQLite file, a PostgreSQL database init never made) like a missing one;
# a database with a malformed page stops the pilot with one message; a
# read-only file system is named as such.

. "$(dirname "$0")/lib.sh"

# A count of the tables of the database (the schema of a PostgreSQL one).
ntables() {
	if on_pg; then
		db_query "SELECT count(*) FROM pg_catalog.pg_tables
		    WHERE schemaname = current_schema()"
	else
		db_query "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	fi
}

# ---- an empty database is refused until init ------------------------------

empty_refused() {
	if ! on_pg; then
		mkdir -p "$ORCHESTRA_HOME"
		: >"$db"
	fi
	for cmd in queue "task list" "node list" "pilot --once"; do
		# shellcheck disable=SC2086 # the command's words
		expect_exit 1 orch $cmd
		expect_stderr_line "^orchestra: no orchestra database in '.*': run 'orchestra init' first$"
	done
	[ "$(ntables)" = 0 ] || fail "a refused command made tables"
	if ! on_pg; then
		[ ! -s "$db" ] || fail "a refused command wrote into the empty file"
	fi
	expect_exit 0 orch init
	if ! on_pg; then
		expect_stdout_contains "database $db created"
	fi
	[ "$(ntables)" -gt 5 ] || fail "init made no schema"
	expect_exit 0 orch queue
}
test_case "an empty database is refused like a missing one, until init" \
    empty_refused

# ---- a malformed page -------------------------------------------------------

# Write garbage over the first page of the b-tree $1 (a table or index) of
# the database file $2, once all of its pages are in the file: a checkpoint
# that a reader or writer kept from completing (it says "0|0|0" only when it
# emptied the log) would leave the page's last version in the log, which
# readers take over the file's.
checkpointed() {
	[ "$(sqlite3 -cmd '.timeout 10000' "$1" \
	    'PRAGMA wal_checkpoint(TRUNCATE)')" = "0|0|0" ]
}
smash_page() {
	local page size
	checkpointed "$2" || return 1
	page=$(sqlite3 "$2" "SELECT rootpage FROM sqlite_master WHERE name = '$1'")
	size=$(sqlite3 "$2" 'PRAGMA page_size')
	head -c "$size" /dev/zero | tr '\0' 'Z' |
	    dd of="$2" bs="$size" seek=$((page - 1)) conv=notrunc 2>/dev/null
}

orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 2 >/dev/null
for i in 1 2 3; do
	orch task submit "t$i" --exec true --skip-test >/dev/null 2>&1
done

malformed_once() {
	local bad="$TMP/bad" sum
	mkdir -p "$bad"
	sqlite3 "$db" ".backup '$bad/orchestra.db'"
	smash_page job "$bad/orchestra.db" || fail "the copy's log is not empty"
	sum=$(md5sum <"$bad/orchestra.db")
	expect_exit 1 env ORCHESTRA_DB="sqlite:$bad/orchestra.db" \
	    "$ORCHESTRA_BIN" pilot --once
	expect_stderr_line "^orchestra: database '$bad/orchestra.db' is malformed \\(.*\\): the pilot does not run on it$"
	[ "$(md5sum <"$bad/orchestra.db")" = "$sum" ] ||
	    fail "the pilot wrote on the malformed database"
	[ ! -e "$bad/orchestra.db-wal" ] || [ ! -s "$bad/orchestra.db-wal" ] ||
	    fail "the pilot wrote a WAL for the malformed database"
}

# The pilot runs on a sound database; then a page of the node table,
# which every cycle reads, is smashed behind its back and a commit
# elsewhere wakes it (docs/internals/pilot.md: notify_seq): it stops at
# once with one message, exit 1, and writes no failure count.  A commit of
# the pilot's own can put the page's sound version in the log again (or
# its checkpoint back in the file) before it reads the smashed one: then
# the smash is done again, while the pilot runs.
smash_node_and_wake() {
	! lib_pilot_gone || return 0
	if sqlite3 "$db" 'SELECT count(*) FROM node' >/dev/null 2>&1; then
		smash_page node "$db" || return 1
		db_query "UPDATE notify_seq SET n = n + 1"
	fi
	return 1
}
malformed_running() {
	pilot_wait_started
	wait_until 60 task_is t1 "done"
	wait_until 60 smash_node_and_wake
	[ "$(grep -c 'the database is malformed, the pilot stops' \
	    "$PILOT_LOG")" = 1 ] || fail "not one 'malformed' line in the log"
	! grep -q 'cycle failed' "$PILOT_LOG" || fail "the pilot retried"
	[ "$(db_query "SELECT count(*) FROM stat
	    WHERE name = 'cycle_failures'")" = 0 ] ||
	    fail "the pilot counted its failure in the malformed database"
}
lib_pilot_gone() {
	! kill -0 "$PILOT_PID" 2>/dev/null ||
	    [ "$(awk '{print $3}' "/proc/$PILOT_PID/stat")" = Z ]
}

pilot_exit_status() {
	[ "$1" = 1 ] || fail "the pilot exited $1, expected 1"
}
# PostgreSQL keeps its own files: these are SQLite's cases.
if ! on_pg; then
	test_case "pilot --once refuses a malformed database, writing nothing" \
	    malformed_once
	pilot_start --interval 30
	test_case "a running pilot stops on a malformed page, once" \
	    malformed_running
	lib_pilot_gone || kill -KILL "$PILOT_PID"
	wait "$PILOT_PID" && rc=0 || rc=$?
	PILOT_PID=""
	test_case "the pilot that stopped on a malformed page exited 1" \
	    pilot_exit_status "$rc"
fi
