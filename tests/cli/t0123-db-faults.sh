#!/bin/bash
# t0123-db-faults.sh - a database that is not what it should be is
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
	[ "$(ntables)" -gt 5 ] || fail "init made no schema"
	expect_exit 0 orch queue
}
test_case "an empty database is refused like a missing one, until init" \
    empty_refused
