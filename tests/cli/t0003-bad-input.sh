#!/bin/bash
# t0003-bad-input.sh - malformed and refused commands, table-driven.
#
# Each row: the exact exit status (1 refused, 2 usage error), an extended
# regex the error line must match, and the command (after "orchestra").
# For every row: the exit status is exactly the one given; stderr is
# exactly one "orchestra: ..." line matching the regex (a usage error adds
# the usage line, nothing else); stdout is empty; the database dump is
# byte-for-byte the same before and after; no directory appeared under
# $ORCHESTRA_HOME/volume.

. "$(dirname "$0")/lib.sh"

# ---- fixtures -------------------------------------------------------------

orch init >/dev/null
NODE0=$(db_query "SELECT name FROM node ORDER BY id LIMIT 1")
node_add_elsewhere cpu1 --queue cpuonly --max-gpu-slots 0 >/dev/null
orch user add alice --email alice@example.org >/dev/null

IN="$TMP/inputs"
mkdir -p "$IN" "$TMP/empty-dir" "$TMP/data"
printf 'x\n' >"$IN/a.txt"
printf 'y\n' >"$IN/b.txt"
printf '%s\n' "$IN/a.txt" "$IN/b.txt" >"$TMP/list"
: >"$TMP/empty-list"
printf '\n\n' >"$TMP/blank-list"
printf '%s\n' "$IN/a.txt" >"$TMP/nul-list"
printf 'bad\0path\n' >>"$TMP/nul-list"

# An existing task of each state the signal rows need.
orch task submit dup --exec 'cat %IN' --inputs "$IN" >/dev/null
orch task submit busy --exec 'cat %IN' --inputs "$IN" >/dev/null
db_query "UPDATE task SET status='running' WHERE name='busy'"
orch task submit finished --exec 'true' >/dev/null
db_query "UPDATE task SET status='done' WHERE name='finished'"
orch task submit fresh --exec 'true' >/dev/null
orch task submit killed-once --exec 'true' >/dev/null
orch task kill killed-once >/dev/null
# Where a task's output directory would go, a file.
touch "$ORCHESTRA_HOME/volume/tester/clash"

LONG129=$(printf 'n%.0s' $(seq 129))

# ---- the table --------------------------------------------------------------

nrows=0
check_row() {
	local code=$1 re=$2 before after dirs_before
	shift 2
	before=$(db_dump)
	dirs_before=$(volume_dirs)
	expect_exit "$code" orch "$@"
	if [ "$code" -eq 2 ]; then
		expect_stderr_usage "$re"
	else
		expect_stderr_line "^orchestra: "
		expect_stderr_line "$re"
	fi
	[ ! -s "$OUT" ] || fail "a refused command wrote to stdout"
	after=$(db_dump)
	if [ "$after" != "$before" ]; then
		diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") |
		    head -n 20 | sed 's/^/# /' >&2
		fail "the database changed"
	fi
	[ "$(volume_dirs)" = "$dirs_before" ] ||
	    fail "a directory appeared under the volume: $(volume_dirs)"
}

row() {
	local code=$1 re=$2
	shift 2
	nrows=$((nrows + 1))
	test_case "exit $code: orchestra $(lib_show "$@")" check_row "$code" "$re" "$@"
}

# Who and where
row 1 "no user 'nobody'"                   --user nobody task submit t1 --exec 'cat %IN' --inputs "$IN"
row 1 "no queue 'nowhere'"                 task submit t1 --exec 'cat %IN' --inputs "$IN" --queue nowhere
row 1 "invalid queue name 'a b'"           task submit t1 --exec 'true' --queue 'a b'
row 1 "task 'dup' of user 'tester' already exists" task submit dup --exec 'cat %IN' --inputs "$IN"
row 1 "queue 'cpuonly' has no GPU"         task submit t1 --exec 'true' --gpu --queue cpuonly

# Task names
row 1 "invalid task name 'a b'"            task submit 'a b' --exec 'true'
row 1 "invalid task name 'a/b'"            task submit 'a/b' --exec 'true'
row 1 "invalid task name '\?\?'"           task submit 'é' --exec 'true'
row 1 "invalid task name 'n+\.\.\.': longer than 128 characters" task submit "$LONG129" --exec 'true'
row 1 "invalid task name: empty"           task submit '' --exec 'true'
row 1 "invalid task name '\.\.'"           task submit '..' --exec 'true'

# Placeholders and their values
row 1 "'%IN' is used but no inputs"        task submit t1 --exec 'cat %IN'
row 1 "command does not use '%IN'"         task submit t1 --exec 'true' --inputs "$IN"
row 1 "--data was given but the command does not use '%DATA'" task submit t1 --exec 'true' --data "$TMP/data"
row 1 "'%DATA' is used but no --data"      task submit t1 --exec 'ls %DATA'
row 1 "secondary input 'REF' is given but the command does not use '%REF'" task submit t1 --exec 'true' --secondary REF="$IN/a.txt"
row 1 "'%REF' is used but no secondary input REF" task submit t1 --exec 'cat %REF'
row 1 "invalid secondary input 'REF': expected KEY=PATH" task submit t1 --exec 'cat %REF' --secondary REF
row 1 "invalid secondary input key 'ref'"  task submit t1 --exec 'cat %REF' --secondary ref="$IN/a.txt"
row 1 "secondary input key 'IN' is reserved" task submit t1 --exec 'cat %IN' --inputs "$IN" --secondary IN="$IN/a.txt"
row 1 "secondary input 'REF' .*given twice" task submit t1 --exec 'cat %REF' --secondary REF="$IN/a.txt" --secondary REF="$IN/b.txt"
row 1 "secondary input 'REF' has an empty path" task submit t1 --exec 'cat %REF' --secondary REF=
row 1 "no command: --exec is empty"        task submit t1 --exec ''

# Inputs
row 1 "no inputs: directory '.*empty-dir' holds no regular file" task submit t1 --exec 'cat %IN' --inputs "$TMP/empty-dir"
row 1 "no inputs: '.*/\*\.nothing' matches no regular file" task submit t1 --exec 'cat %IN' --inputs "$IN/*.nothing"
row 1 "inputs '@.*/no-such-list': No such file" task submit t1 --exec 'cat %IN' --inputs "@$TMP/no-such-list"
row 1 "no inputs: list '.*/empty-list' names no path" task submit t1 --exec 'cat %IN' --inputs "@$TMP/empty-list"
row 1 "no inputs: list '.*/blank-list' names no path" task submit t1 --exec 'cat %IN' --inputs "@$TMP/blank-list"
row 1 "line 2 is not a path"               task submit t1 --exec 'cat %IN' --inputs "@$TMP/nul-list"
row 1 "no inputs: '.*/no-such-dir' is no directory, file or glob" task submit t1 --exec 'cat %IN' --inputs "$TMP/no-such-dir"
row 1 "no inputs: --inputs is empty"       task submit t1 --exec 'cat %IN' --inputs ''
row 1 "output '.*/clash' is not a directory" task submit clash --exec 'true'

# Durations
row 2 "task submit: --timeout: invalid duration '5x'" task submit t1 --exec 'true' --timeout 5x
row 2 "task submit: --timeout: invalid duration '-5'" task submit t1 --exec 'true' --timeout -5
row 2 "task submit: --timeout: invalid duration ''" task submit t1 --exec 'true' --timeout ''
row 2 "task submit: --retention: invalid duration '3y'" task submit t1 --exec 'true' --retention 3y
row 2 "task submit: --memory: invalid size '5X'" task submit t1 --exec 'true' --memory 5X

# Nodes
row 1 "node 'n9': invalid cpu-slots -1: must be 0 or more" node add n9 --cpu-slots -1
row 1 "node '$NODE0': invalid cpu-slots -1" node set "$NODE0" --cpu-slots -1
row 1 "node '$NODE0': cpu-slots 31 above max-cpu-slots 30" node set "$NODE0" --cpu-slots 31
row 1 "node 'n9': cpu-slots 31 above max-cpu-slots 30" node add n9 --cpu-slots 31
row 1 "node 'n9': gpu-slots 2 above max-gpu-slots 1" node add n9 --gpu-slots 2 --max-gpu-slots 1
row 1 "node 'cpu1': gpu-slots 1 above max-gpu-slots 0" node set cpu1 --gpu-slots 1
row 1 "invalid max-gpu-slots 65: at most 64" node add n9 --max-gpu-slots 65
row 1 "invalid node name 'a b'"            node add 'a b'
row 1 "invalid queue name 'a/b'"           node set cpu1 --queue 'a/b'
row 1 "no node 'nonode'"                   node set nonode --cpu-slots 1
row 1 "no node 'nonode'"                   node drain nonode
row 1 "no node 'nonode'"                   node resume nonode
row 1 "node '$NODE0' already exists"       node add "$NODE0"

# Users
row 1 "user 'alice' already exists"        user add alice
row 1 "invalid user name 'bad name'"       user add 'bad name'
row 1 "invalid user name 'bad\.name': no '\.' allowed" user add bad.name
row 1 "invalid email 'nope': expected user@host" user add bob --email nope
row 1 "invalid email 'a b@c': blanks are not allowed" user add bob --email 'a b@c'
# One address, nothing a header or an SMTP command could read as more.
row 1 "invalid email 'bob@x\\\\x0d\\\\x0aBcc: eve@x': control characters" user add bob --email "$(printf 'bob@x\r\nBcc: eve@x')"
row 1 "invalid email 'bob@x\\\\x0aTo: eve@x': control characters" user set alice --email "$(printf 'bob@x\nTo: eve@x')"
row 1 "invalid email 'bob@x,eve@x': give one address, not a list" user add bob --email 'bob@x,eve@x'
row 1 "invalid email 'bob@x;eve@x': give one address" user set alice --email 'bob@x;eve@x'
row 1 "invalid email '<bob@x>': give a plain user@host" user set alice --email '<bob@x>'
row 1 "invalid email 'Bob <bob@x>': blanks" user add bob --email 'Bob <bob@x>'
row 1 "invalid email 'bob@x@y': more than one '@'" user add bob --email 'bob@x@y'
row 2 "user set: invalid --mail 'maybe': must be 'on' or 'off'" user set alice --mail maybe
row 1 "invalid priority -5"                user set alice --priority -5
row 1 "invalid priority 1000000001"        user add bob --priority 1000000001
row 2 "user set: invalid role 'king': must be 'user' or 'admin'" user set alice --role king
row 1 "no user 'nobody'"                   user set nobody --role admin
row 1 "no user 'nobody'"                   user show nobody

# Tasks and signals
row 1 "no task 'nope' of user 'tester'"    task show nope
row 1 "no user 'nobody'"                   task show user.nobody.x
row 1 "no task 'dup' of user 'alice'"      task show user.alice.dup
row 1 "no user 'nobody'"                   task list --user nobody
row 2 "task list: unknown task status 'bogus'" task list --status bogus
row 1 "task 'user.tester.busy' is running: only a broken, killed or finalized task can be retried" task retry busy
row 1 "task 'user.tester.busy' is running: only an ended task can be deleted" task delete busy
row 1 "task 'user.tester.finished' is done: only a registered, testing or running task can be killed" task kill finished
row 1 "task 'user.tester.fresh' is registered: only a broken, killed or finalized task can be retried" task retry user.tester.fresh
row 1 "task 'user.tester.killed-once' already has a pending signal 'kill'" task kill killed-once
row 1 "task 'user.tester.killed-once' already has a pending signal 'kill'" task delete killed-once
row 1 "no task 'nope' of user 'tester'"    task kill nope
row 1 "no user 'nobody'"                   queue --user nobody

# Usage errors
row 2 "task submit: missing --exec CMD"    task submit t1
row 2 "task submit: missing task NAME"     task submit --exec 'true'
row 2 "task submit: too many arguments"    task submit t1 extra --exec 'true'
row 2 "task submit: option '--exec' needs a value" task submit t1 --exec
row 2 "task submit: unknown option '--bogus'" task submit t1 --exec 'true' --bogus
row 2 "task kill: unknown option '--remove-files'" task kill fresh --remove-files
row 2 "task show: too many arguments"      task show a b
row 2 "task list: unexpected argument 'x'" task list x
row 2 "node add: invalid --cpu-slots 'abc': expected a whole number" node add n9 --cpu-slots abc
row 2 "node set: nothing to set"           node set cpu1
row 2 "node drain: missing node NAME"      node drain
row 2 "user add: invalid --priority '1e3': expected a whole number" user add bob --priority 1e3
row 2 "user add: unknown option '--role'"  user add bob --role admin
row 2 "user set: unknown option '--admin'" user set alice --admin
row 2 "user set: nothing to set"           user set alice
row 2 "user show: missing user NAME"       user show
row 2 "user set: option '--priority' needs a value" user set alice --priority

enough_rows() {
	[ "$nrows" -ge 30 ] || fail "only $nrows rows"
}
test_case "the table has $nrows rows" enough_rows
